# scripts/bench/readcount.awk — bytes a command read from its inputs, from
# `strace -f -qq -y -s 0 -e trace=$READ_CALLS` output (see lib.sh
# reads_of): the sum of what read, pread64, readv, preadv, preadv2
# returned on a file descriptor open on an input file, plus what
# copy_file_range, sendfile and splice moved out of one (a kernel copy
# reads its source too; a clone reads nothing). Input files are listed,
# one path per line, in the file given as -v LIST=FILE.
#
# Calls split by other threads ("<unfinished ...>" / "<... resumed>")
# are joined per thread id.
BEGIN {
	while ((getline p < LIST) > 0) input[p] = 1
}
{
	tid = $1
	line = $0
	sub(/^[0-9]+ +/, "", line)
	if (line ~ /<unfinished \.\.\.>$/) {
		sub(/ *<unfinished \.\.\.>$/, "", line)
		pending[tid] = line
		next
	}
	if (line ~ /^<\.\.\. [a-z0-9_]+ resumed>/) {
		sub(/^<\.\.\. [a-z0-9_]+ resumed>/, "", line)
		line = pending[tid] " " line
		delete pending[tid]
	}
	name = line
	sub(/\(.*/, "", name)
	if (name !~ /^(read|pread64|readv|preadv|preadv2|copy_file_range|sendfile|sendfile64|splice)$/) next
	ret = line
	if (!sub(/.*\) += /, "", ret) || ret !~ /^[0-9]+/) next
	args = line
	sub(/^[a-z0-9_]+\(/, "", args)
	if (name ~ /^sendfile/) sub(/^[^,]*, /, "", args) # sendfile(out, in, ...)
	# the source descriptor: "N</path>" — take the path up to the ">"
	# that closes it ("/path>, ...").
	if (!match(args, /^[0-9]+</)) next
	path = substr(args, RLENGTH + 1)
	i = index(path, ">, ")
	if (i == 0) i = index(path, ">)")
	if (i == 0) next
	path = substr(path, 1, i - 1)
	if (path in input) total += ret
}
END { printf "%.0f\n", total + 0 } # %d stops at 2^31-1 in mawk

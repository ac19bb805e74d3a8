# scripts/bench/lib.sh — sourced by scripts/bench.sh: define measurements,
# run them interleaved, record one line per run, aggregate.
#
# A measurement is an ID with a label, a shell command (run with bash -c,
# under GNU time, from $W), and optional untimed steps around each run:
# setup, warm (paths read with cat right before the timed command, so the
# inputs are in the page cache) and clean. Each run appends to $RES:
#   id  run  exit  wall_s  user_s  sys_s  maxrss_kib  bg_cpu_s  out_bytes
# bg_cpu_s is CPU time the whole machine spent during the run beyond the
# command's own user+sys (other processes, steal): the noise indicator.
#
# A measurement given its inputs (-i) also gets one more, untimed run
# under strace after its timed ones, which counts the bytes it read from
# those inputs (scripts/bench/readcount.awk): $READS gets
#   id  bytes_read  input_bytes  exit
#
# Globals used: S (scratch), W (work dir), LOGS, RES, RUNS, CAP (seconds a
# run may take before it is killed), LONG (a run slower than this is not
# repeated).

declare -A LABEL CMD WARMP SETUP CLEAN RUNSOF SIZEOF NAREASON SKIP NOTE INPUTS
IDS=()

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}

# def ID LABEL [-w WARM] [-s SETUP] [-c CLEAN] [-r RUNS] [-o PATH] [-i INPUTS] -- COMMAND
#   WARM, SETUP, CLEAN are shell text evaluated in the harness; -o PATH
#   records the size in bytes of PATH (file or directory) after each run;
#   -i INPUTS (paths, shell text) are what the command reads: its read
#   ratio is counted (see reads_of).
def() {
	local id=$1 label=$2
	shift 2
	LABEL[$id]=$label WARMP[$id]="" SETUP[$id]="" CLEAN[$id]="" RUNSOF[$id]=$RUNS SIZEOF[$id]="" INPUTS[$id]=""
	while (($#)); do
		case $1 in
		-w) WARMP[$id]=$2 ;;
		-s) SETUP[$id]=$2 ;;
		-c) CLEAN[$id]=$2 ;;
		-r) RUNSOF[$id]=$2 ;;
		-o) SIZEOF[$id]=$2 ;;
		-i) INPUTS[$id]=$2 ;;
		--)
			CMD[$id]=$2
			break
			;;
		*) die "def $id: unknown argument $1" ;;
		esac
		shift 2
	done
	[[ -n ${CMD[$id]:-} ]] || die "def $id: no command"
	IDS+=("$id")
}

# na ID LABEL REASON: a measurement that cannot run here, and why.
na() {
	LABEL[$1]=$2 NAREASON[$1]=$3 CMD[$1]=""
	IDS+=("$1")
	log "n/a $1: $3"
}

# warm PATH...: read files (directories recursively) into the page cache.
warm() {
	local p
	for p in "$@"; do
		if [[ -d $p ]]; then
			find "$p" -type f -print0 | xargs -0 -r cat >/dev/null
		elif [[ -e $p ]]; then
			cat "$p" >/dev/null
		fi
	done
}

# busy_ticks: CPU ticks (1/100 s) the machine spent busy, all CPUs.
busy_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9; exit}' /proc/stat; }

# settle: wait (at most $SETTLE seconds) until the rest of the machine uses
# under a quarter of a core over one second, so a run does not start in
# the middle of someone else's burst. Returns at once if SETTLE is 0.
settle() {
	local t b0 b1
	for ((t = 0; t < ${SETTLE:-0}; t++)); do
		b0=$(busy_ticks)
		sleep 1
		b1=$(busy_ticks)
		((b1 - b0 < 25)) && return 0
	done
	return 0
}

# fresh_memory drops the clean page cache (after the sync above), where
# permitted, so that every run starts with the same free memory and then
# warms only its own inputs. Without it a run's speed depended on its
# place in the series: one that wrote 4 GiB right after another row's
# 4 GiB output was left cached spent 2-3 x the system time reclaiming
# pages (p_mp after p_raw: 7.7 s against 5.9 s; export --parity 2 after
# export --split-size: 1.43 x against 1.2 x by hand). FRESH=0 turns it off.
fresh_memory() {
	((${FRESH:-1})) || return 0
	echo 1 >/proc/sys/vm/drop_caches 2>/dev/null || true
}

# run_one ID RUN: one timed run with its untimed setup/warm/clean.
run_one() {
	local id=$1 r=$2 tf="$S/tmp/time.$1" out="$LOGS/$1.$2.out" err="$LOGS/$1.$2.err"
	local rc=0 b0 b1 wall user sys rss bg size=""
	export RUN=$r
	if [[ -n ${SETUP[$id]} ]] && ! (cd "$W" && eval "${SETUP[$id]}") >>"$LOGS/$id.setup.log" 2>&1; then
		log "$id run $r: setup failed (see $LOGS/$id.setup.log)"
		NOTE[$id]="setup failed"
		SKIP[$id]=1
		return
	fi
	sync
	fresh_memory
	settle
	eval "warm ${WARMP[$id]}"
	b0=$(busy_ticks)
	(cd "$W" && /usr/bin/time -f '%e %U %S %M' -o "$tf" timeout -k 10 "$CAP" bash -c "${CMD[$id]}") >"$out" 2>"$err" || rc=$?
	b1=$(busy_ticks)
	read -r wall user sys rss < <(tail -n1 "$tf")
	bg=$(awk -v t="$((b1 - b0))" -v u="$user" -v s="$sys" 'BEGIN{b=t/100-u-s; if(b<0)b=0; printf "%.2f", b}')
	if [[ -n ${SIZEOF[$id]} ]]; then
		size=$(eval "du -sb ${SIZEOF[$id]}" 2>/dev/null | awk '{n+=$1} END{printf "%.0f\n", n}')
	fi
	printf '%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$r" "$rc" "$wall" "$user" "$sys" "$rss" "$bg" "$size" >>"$RES"
	if [[ -n ${CLEAN[$id]} ]]; then
		(cd "$W" && eval "${CLEAN[$id]}") >>"$LOGS/$id.setup.log" 2>&1 || log "$id run $r: clean failed"
	fi
	if ((rc != 0)); then
		if ((rc == 124 || rc == 137)); then
			NOTE[$id]="killed after ${CAP}s"
		else
			NOTE[$id]="exit $rc: $(tail -n2 "$err" | tr '\n' ' ' | cut -c1-200)"
		fi
		log "$id run $r FAILED (${NOTE[$id]})"
		SKIP[$id]=1
		return
	fi
	log "$(printf '%-16s run %d: %7.2fs wall  %7.2fs cpu  %5d MiB  (bg %s cpu-s)' "$id" "$r" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')" "$((rss / 1024))" "$bg")"
	if awk -v w="$wall" -v l="$LONG" 'BEGIN{exit !(w > l)}' && ((r < ${RUNSOF[$id]})); then
		NOTE[$id]="not repeated after a run took ${wall}s (> ${LONG}s)"
		SKIP[$id]=1
	fi
}

# READ_CALLS are the system calls that read a file or copy out of one.
READ_CALLS=read,pread64,readv,preadv,preadv2,copy_file_range,sendfile,splice

# reads_of ID: one more run of ID (setup, warm, clean as for the timed
# ones) under strace, counting the bytes it read from its inputs
# (INPUTS[ID]: files, or directories of them); appends to $READS. Not
# timed: strace slows every system call.
reads_of() {
	local id=$1 list="$S/tmp/inputs.$1" tr="$LOGS/$1.strace" rc=0 read size
	command -v strace >/dev/null || return 0
	if [[ -n ${SETUP[$id]} ]] && ! (cd "$W" && eval "${SETUP[$id]}") >>"$LOGS/$id.setup.log" 2>&1; then
		log "$id: setup of the read count failed (see $LOGS/$id.setup.log)"
		return 0
	fi
	eval "find ${INPUTS[$id]} -type f" 2>/dev/null | sort >"$list"
	size=$(xargs -r -d '\n' stat -c %s <"$list" | awk '{n += $1} END {printf "%.0f\n", n}')
	eval "warm ${WARMP[$id]}"
	(cd "$W" && timeout -k 10 "$CAP" strace -f -qq -y -s 0 -e signal=none -e trace="$READ_CALLS" -o "$tr" bash -c "${CMD[$id]}") \
		>"$LOGS/$id.reads.out" 2>"$LOGS/$id.reads.err" || rc=$?
	read=$(awk -v LIST="$list" -f "$REPO/scripts/bench/readcount.awk" "$tr")
	printf '%s\t%s\t%s\t%d\n' "$id" "$read" "$size" "$rc" >>"$READS"
	if [[ -n ${CLEAN[$id]} ]]; then
		(cd "$W" && eval "${CLEAN[$id]}") >>"$LOGS/$id.setup.log" 2>&1 || log "$id: clean after the read count failed"
	fi
	log "$(printf '%-16s read %s of %s input bytes (%s ×)' "$id" "$read" "$size" "$(read_ratio "$id")")"
	rm -f "$tr"
}

# read_ratio ID: bytes read from the inputs ÷ their size ("" if not
# counted or the counted run failed).
read_ratio() {
	[[ -s ${READS:-} ]] || return 0
	awk -F'\t' -v id="$1" '$1 == id && $4 == 0 && $3 > 0 { r = sprintf("%.3f", $2 / $3) } END { if (r != "") print r }' "$READS"
}

# series TITLE ID...: run the measurements interleaved, round by round,
# so that slow drifts of the machine hit all of them alike; then count
# the reads of those that name their inputs.
series() {
	local title=$1 r id max=0
	shift
	for id in "$@"; do
		[[ -n ${NAREASON[$id]:-} ]] && continue
		((${RUNSOF[$id]} > max)) && max=${RUNSOF[$id]}
	done
	log "== $title"
	for ((r = 1; r <= max; r++)); do
		for id in "$@"; do
			[[ -n ${NAREASON[$id]:-} || -n ${SKIP[$id]:-} ]] && continue
			((r > ${RUNSOF[$id]})) && continue
			run_one "$id" "$r"
		done
	done
	for id in "$@"; do
		[[ -n ${NAREASON[$id]:-} || -n ${SKIP[$id]:-} || -z ${INPUTS[$id]:-} ]] && continue
		reads_of "$id"
	done
}

# stat_of ID FIELD: aggregate over the successful runs of ID:
#   wall, cpu (user+sys) and bg → median; min → lowest wall; rss →
#   highest (KiB); n → runs;
#   size → last recorded output size; ok → 1 if it ran and never failed.
stat_of() {
	awk -F'\t' -v id="$1" -v f="$2" '
		function median(a, n,   i, j, t) {
			for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j+1] = a[j]; a[j+1] = t }
			return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
		}
		$1 == id { all++; if ($3 != 0) { bad++; next }
			if (n == 0 || $4 < mn) mn = $4
			n++; w[n] = $4; c[n] = $5 + $6; b[n] = $8; if ($7 > rss) rss = $7; if ($9 != "") size = $9 }
		END {
			if (f == "ok") { print (n > 0 && bad == 0) ? 1 : 0; exit }
			if (f == "n") { print n + 0; exit }
			if (n == 0) { print ""; exit }
			if (f == "wall") print median(w, n)
			else if (f == "cpu") print median(c, n)
			else if (f == "bg") print median(b, n)
			else if (f == "min") print mn
			else if (f == "rss") print rss
			else if (f == "size") print size
		}' "$RES"
}

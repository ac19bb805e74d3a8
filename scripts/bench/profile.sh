#!/usr/bin/env bash
# scripts/bench/profile.sh — where does an oci-pack command spend its time?
#
# Usage:
#   scripts/bench/profile.sh [--scratch DIR] [--setup SHELL] [--bin FILE] NAME -- SHELL-COMMAND
#
# Builds an unstripped oci-pack from the working tree into
# SCRATCH/bin/oci-pack-prof (or uses --bin FILE), exported as $P ($D, $W
# and $S as in scripts/bench.sh, whose scratch and inputs it reuses), then
# runs SHELL-COMMAND three times, each after SETUP (untimed)
# and with its inputs warm:
#   1. under GNU time: wall vs user+sys (the gap is time off the CPU);
#   2. under `perf record -e cpu-clock -g` (software clock: works in VMs
#      without hardware counters): the top symbols, self and cumulative,
#      user and kernel;
#   3. under `strace -f -c -w`: wall time spent in each system call
#      (fsync, read, write, …), summed over threads.
# Writes SCRATCH/prof/NAME.{time,perf.data,perf.txt,strace.txt} and prints
# a summary on stdout.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
S=${TMPDIR:-/var/tmp}/oci-pack-bench SETUP=":" BIN=""
while [[ $# -gt 0 && $1 == --* ]]; do
	case $1 in
	--scratch) S=$2 ;;
	--setup) SETUP=$2 ;;
	--bin) BIN=$(realpath "$2") ;;
	*)
		echo "profile.sh: unknown option $1" >&2
		exit 2
		;;
	esac
	shift 2
done
(($# == 3)) && [[ $2 == -- ]] || {
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
	exit 2
}
NAME=$1 CMD=$3
S=$(realpath -m "$S")
export S D=$S/data W=$S/work P=$S/bin/oci-pack-prof
OUT=$S/prof
mkdir -p "$OUT" "$W" "$S/bin"
for t in perf strace; do command -v "$t" >/dev/null || echo "profile.sh: $t not installed (apt-get install linux-perf strace)" >&2; done

if [[ -n $BIN ]]; then
	P=$BIN
else
	(cd "$REPO" && CGO_ENABLED=0 go build -trimpath -o "$P" ./cmd/oci-pack)
fi

# prepare: untimed setup, then the inputs into the page cache.
prepare() {
	(cd "$W" && eval "$SETUP")
	sync
	find "$D" "$W" -type f -size +1M -print0 2>/dev/null | xargs -0 -r cat >/dev/null
}

prepare
(cd "$W" && /usr/bin/time -f '%e %U %S %M' -o "$OUT/$NAME.time" bash -c "$CMD") >/dev/null
read -r wall user sys rss <"$OUT/$NAME.time"
echo "## $NAME"
echo
echo "command: $CMD"
echo
awk -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" 'BEGIN{
	printf "wall %.2f s, user %.2f s, sys %.2f s, peak RSS %d MiB; on-CPU %.0f%% of wall × 2 cores\n", w, u, s, r/1024, (u+s)/(2*w)*100 }'

if command -v perf >/dev/null; then
	prepare
	(cd "$W" && perf record -q -e cpu-clock -F 499 -g -o "$OUT/$NAME.perf.data" -- bash -c "$CMD") >/dev/null 2>&1
	perf report -i "$OUT/$NAME.perf.data" --stdio --no-children --sort comm,dso,sym -g none --percent-limit 1 2>/dev/null |
		grep -v '^#' | sed '/^$/d' >"$OUT/$NAME.perf.txt"
	echo
	echo "perf, self time (≥ 1%):"
	echo '```'
	head -n 25 "$OUT/$NAME.perf.txt"
	echo '```'
fi

if command -v strace >/dev/null; then
	prepare
	(cd "$W" && strace -f -c -w -o "$OUT/$NAME.strace.txt" bash -c "$CMD") >/dev/null 2>&1
	echo
	echo "strace -f -c -w, system calls by wall time (top 8):"
	echo '```'
	head -n 10 "$OUT/$NAME.strace.txt"
	echo '```'
fi

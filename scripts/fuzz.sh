#!/bin/sh
# Run every native Go fuzz target for a while (RELIABILITY, issue 7).
#
#   scripts/fuzz.sh [FUZZTIME]     # per target; default 5m (make fuzz); make fuzz-short: 20s
#   FUZZ_TARGETS='FuzzImport FuzzParseRef' scripts/fuzz.sh 1m     # a subset
#
# `go test -fuzz` takes one package and one target per run, so this loops
# over the package:target pairs below and prints each one's exec count.
# go test writes a failing input to the package's testdata/fuzz/<target>/:
# keep it there, as a regression test that every `go test` runs.
#
# Temporary layouts and output trees go to $FUZZ_TMPDIR, by default
# /dev/shm when it is a writable directory: the import and extract targets
# fsync every blob and file, ten times slower on a disk. FUZZ_MINIMIZE
# bounds the minimisation of each new interesting input: go test's 60s
# default (or any time bound: each new input then costs that long) leaves
# a short run of the slow targets a few hundred executions.
set -eu
FUZZTIME=${1:-${FUZZTIME:-5m}}
FUZZ_MINIMIZE=${FUZZ_MINIMIZE:-100x}
GO=${GO:-go}

TARGETS='
./cas:FuzzParseDigest
./layout:FuzzParseIndex
./layout:FuzzParseDocument
./layout:FuzzParseRef
./layout:FuzzValidateTag
./layout/strictjson:FuzzCheck
./layout/archive:FuzzImport
./layout/archive:FuzzImportEntries
./pack/extract:FuzzExtractLayer
./pack/extract:FuzzExtractEntries
'

cd "$(dirname "$0")/.."
if [ -z "${FUZZ_TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	FUZZ_TMPDIR=/dev/shm
fi
tmp=$(mktemp -d "${FUZZ_TMPDIR:-${TMPDIR:-/tmp}}/oci-pack-fuzz.XXXXXX")
trap 'chmod -R u+rwx "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# deadline_race LOG: the run failed only by Go's coordinator race at the
# end of -fuzztime (golang/go#75804, fixed in Go 1.27): the one failure
# line is "context deadline exceeded" and no failing input was written. A
# real finding always writes one (and prints "Failing input written").
deadline_race() {
	grep -q 'context deadline exceeded' "$1" &&
		! grep -q 'Failing input written\|panic:\|_test.go:[0-9]' "$1"
}

failed=
for pair in $TARGETS; do
	pkg=${pair%%:*} target=${pair#*:}
	case " ${FUZZ_TARGETS:-$target} " in *" $target "*) ;; *) continue ;; esac
	log=$tmp/$target.log
	mkdir -p "$tmp/$target"
	if TMPDIR=$tmp/$target $GO test -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" \
		-fuzzminimizetime "$FUZZ_MINIMIZE" "$pkg" >"$log" 2>&1; then
		echo "fuzz: ok   $pkg $target: $(grep 'execs:' "$log" | tail -1 | sed 's/^fuzz: //')"
	elif deadline_race "$log" && $GO test -count=1 -run "^$target\$" "$pkg" >"$log.replay" 2>&1; then
		echo "fuzz: ok   $pkg $target: $(grep 'execs:' "$log" | tail -1 | sed 's/^fuzz: //') (ended by Go's fuzz-deadline race, golang/go#75804; no input written, corpus replay passed)"
	else
		grep -v 'execs:' "$log" || true
		echo "fuzz: FAIL $pkg $target"
		failed="$failed $target"
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz: failing targets:$failed (inputs in testdata/fuzz/<target>/)"
	exit 1
fi

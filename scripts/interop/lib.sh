# scripts/interop/lib.sh — result bookkeeping for scripts/interop.sh (sourced).
# shellcheck shell=bash
#
# A run is a set of cells, one per (direction, artifact, tool). `cell` selects
# the current cell; `check NAME CMD...` runs CMD with its output in a log file
# and records PASS or FAIL against the current cell (a cell passes iff every
# check in it passed); `skip`/`fail_cell` record a cell that could not run.
# `print_matrix` prints one table per direction and the failed checks with the
# tail of their logs; `failures` is the number of failed checks.
#
# Needs: LOG_DIR (a directory this run owns).

declare -A CELL_STATUS=() # "dir|art|tool" -> PASS|FAIL|SKIP
declare -A CELL_NOTE=()   # "dir|art|tool" -> notes ("; "-separated)
declare -A CELL_FAILS=()  # "dir|art|tool" -> names of failed checks
declare -a DIRS=()        # directions, in order of first use
declare -A ROWS=()        # dir -> "art1 art2 ..." (order of first use)
declare -A COLS=()        # dir -> "tool1 tool2 ..."
declare -a FAILED=()      # "cell :: check :: log"
declare -A LEGEND=()      # dir -> a line printed under its table
CUR=""
failures=0
nchecks=0

_add_word() { # VARNAME-of-assoc KEY WORD: append WORD to the list at KEY once
	local -n _a="$1"
	case " ${_a[$2]:-} " in *" $3 "*) ;; *) _a[$2]="${_a[$2]:+${_a[$2]} }$3" ;; esac
}

# cell DIRECTION ARTIFACT TOOL: make it the current cell (PASS until a check fails).
cell() {
	case " ${DIRS[*]:-} " in *" $1 "*) ;; *) DIRS+=("$1") ;; esac
	_add_word ROWS "$1" "$2"
	_add_word COLS "$1" "$3"
	CUR="$1|$2|$3"
	: "${CELL_STATUS[$CUR]:=PASS}"
	printf '  %-14s %-18s %s\n' "$1" "$2" "$3" >&2
}

_note() { CELL_NOTE[$CUR]="${CELL_NOTE[$CUR]:+${CELL_NOTE[$CUR]}; }$1"; }
_fail() { CELL_FAILS[$CUR]="${CELL_FAILS[$CUR]:+${CELL_FAILS[$CUR]}; }$1"; }

_slug() { printf '%s' "$*" | tr -c 'A-Za-z0-9._-' '_' | cut -c1-120; }

# check NAME CMD...: run CMD (errexit on inside, so a function stops at its
# first failing command), stdout+stderr to LOG_DIR/<cell>-<NAME>.log.
check() {
	local name="$1" log rc t0 secs
	shift
	log="$LOG_DIR/$(_slug "${CUR//|/-}-$name").log"
	printf '$ %s\n' "$*" >"$log"
	nchecks=$((nchecks + 1))
	t0=$EPOCHREALTIME
	set +e
	(
		set -e
		"$@"
	) >>"$log" 2>&1 </dev/null
	rc=$?
	set -e
	secs="$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}')"
	printf '%s %s\n' "$secs" "${CUR//|/ } :: $name" >>"$LOG_DIR/timings"
	if ((rc == 0)); then
		printf '    PASS %s (%ss)\n' "$name" "$secs" >&2
		return 0
	fi
	failures=$((failures + 1))
	CELL_STATUS[$CUR]=FAIL
	_fail "$name"
	FAILED+=("$CUR :: $name (exit $rc) :: $log")
	printf '    FAIL %s (exit %d; log %s)\n' "$name" "$rc" "$log" >&2
	tail -n 8 "$log" | sed 's/^/      | /' >&2
	return 0
}

# note TEXT: attach a note to the current cell (shown under the matrix).
note() { _note "$1"; }

# skip REASON: the current cell could not run (tool or command missing).
skip() {
	[[ "${CELL_STATUS[$CUR]}" == FAIL ]] || CELL_STATUS[$CUR]=SKIP
	_note "skipped: $1"
	printf '    SKIP %s\n' "$1" >&2
}

# fail_cell REASON: the current cell could not run and that is a failure
# (CI=true: every tool and command must be there).
fail_cell() {
	failures=$((failures + 1))
	CELL_STATUS[$CUR]=FAIL
	_fail "$1"
	FAILED+=("$CUR :: $1 :: -")
	printf '    FAIL %s\n' "$1" >&2
}

# missing REASON: fail_cell under CI=true, skip otherwise.
missing() {
	if [[ "${CI:-}" == true ]]; then fail_cell "$1"; else skip "$1"; fi
}

# cell_ok: the current cell has not failed or been skipped so far.
cell_ok() { [[ "${CELL_STATUS[$CUR]}" == PASS ]]; }

print_matrix() {
	local d a t key st w col notes
	for d in "${DIRS[@]}"; do
		printf '\n== %s ==\n' "$d"
		w=22
		printf '%-*s' "$w" "artifact"
		for t in ${COLS[$d]}; do printf ' %-9s' "$t"; done
		printf '\n'
		notes=()
		for a in ${ROWS[$d]}; do
			printf '%-*s' "$w" "$a"
			for t in ${COLS[$d]}; do
				key="$d|$a|$t"
				st="${CELL_STATUS[$key]:--}"
				col="$st"
				if [[ -n "${CELL_FAILS[$key]:-}${CELL_NOTE[$key]:-}" ]]; then
					notes+=("  $a × $t: $st — ${CELL_FAILS[$key]:+failed: ${CELL_FAILS[$key]}${CELL_NOTE[$key]:+; }}${CELL_NOTE[$key]:-}")
				fi
				printf ' %-9s' "$col"
			done
			printf '\n'
		done
		[[ -z "${LEGEND[$d]:-}" ]] || printf '%s\n' "${LEGEND[$d]}"
		((${#notes[@]} == 0)) || printf '%s\n' "${notes[@]}"
	done
	if ((${#FAILED[@]})); then
		printf '\nFailed checks (%d):\n' "${#FAILED[@]}"
		printf '  %s\n' "${FAILED[@]}"
	fi
}

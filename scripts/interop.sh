#!/usr/bin/env bash
# scripts/interop.sh — oci-pack against the real tools and a real registry.
#
# Usage: scripts/interop.sh            (make interop; part of make test)
#
#   oci-pack → tools: artifacts packed by oci-pack (raw files, gzip and zstd
#     directory layers, explicit and empty config, no files, Harbor icon and
#     skip-list, a referrer, ModelPack, Helm chart dir and .tgz) are loaded
#     into a registry on 127.0.0.1 by skopeo, oras, regctl and crane, pulled
#     back by a different tool (skopeo→oras→regctl→crane→skopeo), and read by
#     crane validate, regctl, oras pull, helm, modctl, oras discover, umoci.
#     Manifest digests must be identical at every hop.
#   tools → oci-pack: layouts written by oras, regctl, crane, skopeo, helm
#     (via skopeo) and umoci must pass oci-pack ls, inspect, verify, export,
#     extract, referrers.
#
# Prints a matrix (direction × artifact × tool → PASS/FAIL/SKIP) and exits 1
# if any check failed. Each check's output goes to a log file; the log
# directory is printed and kept when something failed (or INTEROP_KEEP=1).
#
# Environment:
#   OCI_PACK_BIN   the binary under test (default bin/oci-pack; make exports it)
#   CI=true        a tool that cannot be installed, or an oci-pack command
#                  that does not exist (export, import, extract), is a FAIL;
#                  otherwise that cell is skipped with a note
#   INTEROP_KEEP=1 keep the work directory (layouts, registry data) and logs
#   INTEROP_ONLY   space-separated artifact/row names to run (default: all)
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OP="${OCI_PACK_BIN:-bin/oci-pack}"
[[ "$OP" == /* ]] || OP="$ROOT/$OP"
started=$SECONDS

log() { printf 'interop: %s\n' "$*" >&2; }

if [[ ! -x "$OP" ]]; then
	log "oci-pack binary $OP not found (run make build, or set OCI_PACK_BIN)"
	exit 1
fi

W="$(mktemp -d "${TMPDIR:-/tmp}/oci-pack-interop.XXXXXX")"
LOG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/oci-pack-interop-logs.XXXXXX")"
REG_DIR="$W/registry"

# shellcheck source=interop/lib.sh
source "$ROOT/scripts/interop/lib.sh"
# shellcheck source=interop/fixtures.sh
source "$ROOT/scripts/interop/fixtures.sh"
# shellcheck source=interop/to_tools.sh
source "$ROOT/scripts/interop/to_tools.sh"
# shellcheck source=interop/from_tools.sh
source "$ROOT/scripts/interop/from_tools.sh"

cleanup() {
	local rc=$?
	"$ROOT/scripts/registry.sh" stop "$REG_DIR" || true
	if [[ "${INTEROP_KEEP:-}" == 1 ]]; then
		log "kept work directory $W and logs $LOG_DIR"
	else
		rm -rf "$W"
		if ((failures == 0 && rc == 0)); then rm -rf "$LOG_DIR"; fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

py() { python3 "$ROOT/scripts/interop/oci.py" "$@"; }
sk() { skopeo --policy "$W/policy.json" "$@"; }
have() { command -v "$1" >/dev/null 2>&1; }
# has_cmd NAME: oci-pack has command NAME (export, import, extract are new).
has_cmd() { "$OP" help "$1" >/dev/null 2>&1; }
# need TOOL: TOOL is installed; else a failure under CI=true, a note otherwise.
need() {
	have "$1" && return 0
	if [[ "${CI:-}" == true ]]; then fail_cell "$1 not installed"; else note "$1 not installed: not checked"; fi
	return 1
}
wanted() { [[ -z "${INTEROP_ONLY:-}" ]] || [[ " $INTEROP_ONLY " == *" $1 "* ]]; }

# ---------------------------------------------------------------- tools
log "work directory $W, logs $LOG_DIR"
tools_rc=0
BIN="$("$ROOT/scripts/tools.sh")" || tools_rc=$?
"$ROOT/scripts/tools.sh" modctl >/dev/null || tools_rc=$?
export PATH="$BIN:$PATH"
if ((tools_rc != 0)); then log "tools.sh failed (exit $tools_rc): missing tools fail their cells"; fi

# Keep every tool away from the user's configuration and credentials.
mkdir -p "$W/docker" "$W/helm"
# (Not REGISTRY_AUTH_FILE: the registry reads every REGISTRY_* variable as config.)
export DOCKER_CONFIG="$W/docker"
export HELM_CONFIG_HOME="$W/helm/config" HELM_CACHE_HOME="$W/helm/cache" HELM_DATA_HOME="$W/helm/data"
export REGCTL_CONFIG="$W/regctl.json"
printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >"$W/policy.json"
for t in skopeo oras crane regctl umoci helm modctl; do
	if have "$t"; then log "$t: $(command -v "$t")"; else log "$t: NOT INSTALLED"; fi
done

# ---------------------------------------------------------------- registry
cell setup registry registry
ADDR=""
if ! have registry; then
	missing "registry (distribution) not installed"
elif ADDR="$("$ROOT/scripts/registry.sh" start "$REG_DIR" 2>"$LOG_DIR/registry-start.log")"; then
	log "registry at $ADDR (log $REG_DIR/registry.log)"
	if have regctl; then regctl registry set --tls disabled "$ADDR" >/dev/null 2>&1 || true; fi
else
	fail_cell "registry did not start (log $LOG_DIR/registry-start.log)"
	ADDR=""
fi

# ---------------------------------------------------------------- fixtures
FX="$W/fx"
SRC="$W/src"
T="$W/tl"
mkdir -p "$T"
cell setup fixtures oci-pack
check "make fixtures" make_fixtures "$FX"
check "oci-pack init" "$OP" init "$SRC"
if ! cell_ok; then
	print_matrix
	exit 1
fi

# ---------------------------------------------------------------- oci-pack → tools
ARTS=(raw dirgz dirzst config nofiles harbor withref modelpack helmdir)
[[ ! -f "$FX/pkg/mychart-0.1.0.tgz" ]] || ARTS+=(helmtgz)
log "oci-pack pack"
for art in "${ARTS[@]}"; do
	wanted "$art" || continue
	pack_row "$art"
done
index_before="$(sha256sum "$SRC/index.json")"
if [[ -n "$ADDR" ]]; then
	log "oci-pack → tools"
	for art in "${ARTS[@]}"; do
		wanted "$art" || continue
		run_to_tools "$art"
	done
	# The layout we packed must come out of all that untouched and valid.
	index_after="$(sha256sum "$SRC/index.json")"
	cell oci-pack→tools source-layout oci-pack
	check "verify after all tools read it" "$OP" verify "$SRC"
	check "index.json unchanged by the tools" expect_eq "sha256 of $SRC/index.json" "$index_before" "$index_after"
fi

# ---------------------------------------------------------------- tools → oci-pack
log "tools → oci-pack"
for row in "${FROM_ROWS[@]}"; do
	wanted "$row" || continue
	case "$row" in
	crane-pull | skopeo-copy | helm-push)
		if [[ -z "$ADDR" ]]; then
			cell tools→oci-pack "$row" produce
			missing "no registry"
			continue
		fi
		;;
	esac
	run_from_tools "$row"
done

[[ -z "$ADDR" ]] || { source "$ROOT/scripts/interop/sign.sh" && run_sign; } # signatures: scripts/interop/sign.sh
[[ -z "$ADDR" ]] || { source "$ROOT/scripts/interop/registry.sh" && run_registry_interop; } # push, pull, serve: scripts/interop/registry.sh
if wanted modelcar; then source "$ROOT/scripts/interop/modelcar.sh" && run_modelcar; fi # image-volume form: scripts/interop/modelcar.sh
if wanted serve-containerd; then source "$ROOT/scripts/interop/serve-containerd.sh" && run_serve_containerd; fi # containerd pulls from oci-pack serve
if wanted tarballs; then source "$ROOT/scripts/interop/tarballs.sh" && run_tarballs; fi # tarballs other tools write: scripts/interop/tarballs.sh
if wanted parity; then source "$ROOT/scripts/interop/parity.sh" && run_parity; fi # parity volumes, resumed import: scripts/interop/parity.sh
if wanted dayone; then source "$ROOT/scripts/interop/dayone.sh" && run_dayone; fi # first day: scripts/interop/dayone.sh

# ---------------------------------------------------------------- result
print_matrix
log "$nchecks checks, $failures failed, $((SECONDS - started))s; logs in $LOG_DIR"
if ((failures)); then
	exit 1
fi

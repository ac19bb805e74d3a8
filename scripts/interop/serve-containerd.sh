# scripts/interop/serve-containerd.sh — containerd pulls from `oci-pack
# serve` (issue 16; sourced by scripts/interop.sh, which calls
# run_serve_containerd). Needs no registry.
# shellcheck shell=bash
#
# run_serve_containerd: packs a small model (the fixture model plus a nested
# file, an executable and an empty file) with --preset modelcar into its own
# layout, serves it with `oci-pack serve` on 127.0.0.1 (repository
# "modelcar"), starts Debian's containerd (scripts/containerd.sh, native
# snapshotter) and, for linux/amd64:
#   `ctr image pull --plain-http` of SADDR/modelcar:mc unpacks it; the
#   digest containerd records for the image is the layout's; a snapshot of
#   it (ctr snapshots prepare + mounts, as modelcar.sh does) holds models/
#   with every file's bytes and mode equal to the input's.
# Containerd that cannot run here (no root, no package) is a failure under
# CI=true and a skip otherwise; so is one that does not start.
# Needs: W, ROOT, OP, LOG_DIR, lib.sh's cell/check/missing/note,
# to_tools.sh's expect_eq, py, has_cmd; modelcar.sh (sourced here) for
# mc_model, mc_start_containerd, mc_ctr_mount, mc_stop_containerd, and
# registry.sh (sourced here) for serve_start and serve_stop.

# shellcheck source=modelcar.sh
source "$ROOT/scripts/interop/modelcar.sh"
# shellcheck source=registry.sh
source "$ROOT/scripts/interop/registry.sh"

# sc_pull_mount: what mc_ctr_mount does for the registry copy, for the
# layout served by oci-pack serve at SADDR, then the digest check.
sc_pull_mount() {
	local ADDR="$SADDR" MCL="$SCL" MCM="$SCM" ref="$SADDR/modelcar:mc" got
	mc_ctr_mount mc amd64
	got="$("$MC_CTRD/ctr" image ls | awk -v r="$ref" '$1 == r {print $3}')"
	expect_eq "digest containerd records for $ref" "$(py layout-digest "$SCL" mc)" "$got"
}

run_serve_containerd() {
	local dir="oci-pack registry" rc=0
	SCW="$W/serve-ctrd"
	SCM="$SCW/model"
	SCL="$SCW/L"
	mkdir -p "$SCW"
	cell "$dir" modelcar serve-containerd
	if ! has_cmd serve; then
		missing "oci-pack has no serve command"
		return 0
	fi
	mc_model "$SCM"
	check "pack --preset modelcar" "$OP" pack "$SCL:mc" "$SCM" --preset modelcar
	cell_ok || return 0
	if ! serve_start "$SCW/serve.out" "$SCL" --name modelcar; then
		fail_cell "oci-pack serve did not start: $(cat "$SCW/serve.out.err")"
		serve_stop
		return 0
	fi
	mc_start_containerd "$W/sctrd" "$LOG_DIR/serve-containerd-start.log" || rc=$?
	if ((rc == 0)); then
		check "ctr image pull --plain-http from oci-pack serve, digest, mount" sc_pull_mount
	elif ((rc != 75)); then
		missing "containerd did not start (log $LOG_DIR/serve-containerd-start.log)"
	fi
	mc_stop_containerd
	serve_stop
}

# scripts/interop/modelcar.sh — the image-volume form (issue 17) against umoci,
# crane, containerd and skopeo, and carried across the gap once (sourced by
# scripts/interop.sh, which calls run_modelcar).
# shellcheck shell=bash
#
# run_modelcar: packs a model (FX/model plus a nested file, an executable
# and an empty file) with --preset modelcar and with --preset modelpack
# --image-volume, then checks, one matrix row each:
#   pack       one index digest on --jobs 1 and 4; the ModelPack manifest
#              beside the image is the one --preset modelpack alone gives
#   umoci      `umoci unpack --rootless` of each platform's image: the rootfs
#              is models/ alone, the input tree (contents and modes)
#   crane      `crane export --platform` of each platform (from the registry)
#              lists the input's files under models/
#   containerd Debian's containerd (scripts/containerd.sh, native snapshotter):
#              `ctr image pull` of each platform, then a snapshot of it mounted
#              (ctr snapshots prepare + mounts) holds models/ = the input; the
#              ModelPack artifact alone gives no files (1.6: "mismatched image
#              rootfs and manifest layers")
#   carry      export of both forms <= 1.01x the files + 4 MiB; import into an
#              empty layout rebuilds every tar layer, verify passes, extract
#              gives the files; a changed recipe or raw blob exits 3 with
#              index.json unchanged; skopeo reads the ModelPack tag of that
#              archive, and the image tag of an --full-twins one
# Needs: W, ROOT, OP, FX, LOG_DIR, ADDR ("" when no registry), lib.sh's
# cell/check, to_tools.sh's cmp_tree/expect_eq, sk.

mcpy() { python3 "$ROOT/scripts/interop/modelcar.py" "$@"; }

MC_CTRD="" # the containerd directory while one runs

mc_stop_containerd() {
	[[ -n "$MC_CTRD" ]] || return 0
	"$ROOT/scripts/containerd.sh" stop "$MC_CTRD" >/dev/null 2>&1 || true
	MC_CTRD=""
}

mc_model() { # DIR
	cp -a "$FX/model" "$1"
	mkdir -p "$1/extra/deeper"
	printf 'nested\n' >"$1/extra/deeper/notes.txt"
	printf '#!/bin/sh\necho serve\n' >"$1/extra/serve.sh"
	chmod 0755 "$1/extra/serve.sh"
	: >"$1/extra/empty.txt"
}

mc_pack() { # L
	local a b
	a="$("$OP" pack "$1:mc" "$MCM" --preset modelcar --jobs 1)"
	b="$("$OP" pack "$1-j4:mc" "$MCM" --preset modelcar --jobs 4)"
	expect_eq "index digest with --jobs 4" "$a" "$b"
}

mc_twin() { # L
	local alone beside
	"$OP" pack "$1:fxm" "$FX/model" --preset modelpack
	alone="$("$OP" pack "$1-alone:m" "$MCM" --preset modelpack)"
	beside="$("$OP" pack "$1:mp" "$MCM" --preset modelpack --image-volume)"
	expect_eq "ModelPack manifest beside the image" "$alone" "$beside"
	"$OP" inspect "$1:mp-image" | grep -F "image-volume form: linux/amd64, linux/arm64"
	"$OP" inspect "$1:mp-image" | grep -F "of the subject)"
}

mc_umoci() { # L ARCH
	local out="$MCW/umoci-$2"
	"$OP" tag "$1@$(mcpy platform-digest "$1" mc "$2")" "mc-$2"
	umoci unpack --rootless --image "$1:mc-$2" "$out"
	expect_eq "rootfs top level" "models" "$(ls "$out/rootfs")"
	cmp_tree "$MCM" "$out/rootfs/models"
}

mc_crane() { # ARCH
	crane export --insecure --platform "linux/$1" "$ADDR/modelcar:mc" "$MCW/crane-$1.tar"
	expect_eq "files crane export lists under models/" "$(mcpy files "$MCM" | tr '\n' ' ')" "$(mcpy tar-files "$MCW/crane-$1.tar" models | tr '\n' ' ')"
}

mc_ctr_mount() { # TAG ARCH: pull ADDR/modelcar:TAG for linux/ARCH, mount its snapshot, compare
	local ref="$ADDR/modelcar:$1" key="mc-$1-$2" target="$MC_CTRD/mnt-$1-$2" chain mnt
	"$MC_CTRD/ctr" image pull --plain-http --platform "linux/$2" "$ref"
	chain="$(mcpy chain-id "$MCL" "$1" "$2")"
	# `snapshots prepare` labels the snapshot containerd.io/gc.root as it
	# makes it; a `snapshots view` has no lease or label, and containerd's
	# GC may collect it before it is mounted.
	"$MC_CTRD/ctr" snapshots prepare "$key" "$chain"
	mkdir -p "$target"
	# ctr 1.6's `image mount` ignores --snapshotter; the snapshot API does not
	# (the mount is the snapshot's directory, bound in place).
	mnt="$("$MC_CTRD/ctr" snapshots mounts "$target" "$key")"
	echo "$mnt"
	[[ "$mnt" == "mount -t bind "* ]] || {
		echo "unexpected mount command: $mnt"
		return 1
	}
	sh -c "$mnt"
	local rc=0
	expect_eq "mounted top level" "models" "$(ls "$target")" || rc=1
	cmp_tree "$MCM" "$target/models" || rc=1
	umount "$target"
	"$MC_CTRD/ctr" snapshots rm "$key"
	return "$rc"
}

mc_ctr_modelpack() { # the ModelPack artifact alone gives no files
	local out rc=0
	out="$("$MC_CTRD/ctr" image pull --plain-http "$ADDR/modelcar:m" 2>&1)" || rc=$?
	echo "$out"
	if ((rc != 0)); then
		# containerd 1.6 refuses to unpack it
		grep -F "mismatched image rootfs and manifest layers" <<<"$out"
		return
	fi
	# containerd 2.x unpacks it as an empty root filesystem
	echo "pull succeeded: checking that its root filesystem is empty"
	"$MC_CTRD/ctr" image mount "$ADDR/modelcar:m" "$MC_CTRD/mnt-m" && {
		local n
		n="$(find "$MC_CTRD/mnt-m" -mindepth 1 | wc -l)"
		"$MC_CTRD/ctr" image unmount "$MC_CTRD/mnt-m"
		expect_eq "entries in the ModelPack artifact's mount" 0 "$n"
	}
}

mc_carry() { # L
	"$OP" export "$1:mp" "$1:mp-image" -o "$MCW/x.tar" 2>&1 | tee "$MCW/export.log"
	"$OP" export "$1:mp" "$1:mp-image" -o "$MCW/x-full.tar" --full-twins
	grep -F "as recipes over their raw twins" "$MCW/export.log"
	mcpy size-check "$MCW/x.tar" "$MCM"
	echo "with --full-twins: $(stat -c %s "$MCW/x-full.tar") bytes"
	"$OP" import "$MCW/x.tar" "$MCW/far" 2>&1 | tee "$MCW/import.log"
	grep -E "rebuilt [0-9]+ image-volume tar layer" "$MCW/import.log"
	"$OP" verify "$MCW/far"
	"$OP" extract "$MCW/far:mp-image" -o "$MCW/far-img"
	"$OP" extract "$MCW/far:mp" -o "$MCW/far-raw"
	cmp_tree --no-mode "$MCM" "$MCW/far-img"
	cmp_tree --no-mode "$MCM" "$MCW/far-raw"
}

mc_tamper() { # WHAT: recipe | raw
	local far="$MCW/tamper-$1" before rc=0
	"$OP" pack "$far:other" "$FX/files/a.txt" --artifact-type application/vnd.oci-pack.interop.v1 >/dev/null
	before="$(sha256sum <"$far/index.json")"
	mcpy tamper "$MCW/x.tar" "$MCW/bad-$1.tar" "$1"
	"$OP" import "$MCW/bad-$1.tar" "$far" || rc=$?
	expect_eq "exit status of the import of an archive with a changed $1" 3 "$rc"
	expect_eq "index.json after the refused import" "$before" "$(sha256sum <"$far/index.json")"
}

mc_skopeo() {
	sk copy "oci-archive:$MCW/x.tar:mp" "dir:$MCW/sk-mp"
	if sk copy --all "oci-archive:$MCW/x.tar:mp-image" "oci:$MCW/sk-img:img" >"$MCW/sk.log" 2>&1; then
		echo "skopeo read the image tag of an archive that carries its layers as recipes"
		return 1
	fi
	echo "as expected, the recipe archive's image tag lacks its tar layers for skopeo: $(tail -n 1 "$MCW/sk.log")"
	sk copy --all "oci-archive:$MCW/x-full.tar:mp-image" "oci:$MCW/sk-img:img"
	"$OP" verify "$MCW/sk-img"
}

run_modelcar() {
	MCW="$W/modelcar"
	MCM="$MCW/model"
	MCL="$MCW/L"
	mkdir -p "$MCW"
	mc_model "$MCM"

	cell modelcar pack oci-pack
	check "pack --preset modelcar, --jobs 1 and 4" mc_pack "$MCL"
	check "pack --preset modelpack --image-volume" mc_twin "$MCL"
	check "verify" "$OP" verify "$MCL"
	cell_ok || return 0

	cell modelcar image umoci
	if need umoci; then
		check "umoci unpack linux/amd64" mc_umoci "$MCL" amd64
		check "umoci unpack linux/arm64" mc_umoci "$MCL" arm64
	fi

	cell modelcar image crane
	if [[ -z "$ADDR" ]]; then
		missing "no registry"
	elif need oras && need crane; then
		check "oras cp the image, its twin and the ModelPack tag" mc_push
		check "crane export linux/amd64" mc_crane amd64
		check "crane export linux/arm64" mc_crane arm64
	fi

	cell modelcar image containerd
	if [[ -z "$ADDR" ]]; then
		missing "no registry"
	else
		mc_containerd
	fi

	cell modelcar carry oci-pack
	check "export both forms, import, verify, extract" mc_carry "$MCL"
	check "a changed recipe: exit 3, index.json unchanged" mc_tamper recipe
	check "a changed raw blob: exit 3, index.json unchanged" mc_tamper raw
	cell modelcar carry skopeo
	if need skopeo; then
		check "skopeo reads the archives" mc_skopeo
	fi
}

mc_push() {
	oras cp --from-oci-layout "$MCL:mc" --to-plain-http "$ADDR/modelcar:mc"
	oras cp --from-oci-layout "$MCL:mp-image" --to-plain-http "$ADDR/modelcar:mp-image"
	# The fixture model: containerd 1.6 refuses to fetch the zero-size layer
	# of extra/empty.txt before it even tries to unpack mp.
	oras cp --from-oci-layout "$MCL:fxm" --to-plain-http "$ADDR/modelcar:m"
	touch "$MCW/pushed"
}

# mc_start_containerd DIR LOG: start the private containerd in DIR as
# MC_CTRD (stopped by mc_stop_containerd, or at exit), its start-up output
# in LOG, and note its version on the current cell. Returns 0 when it runs;
# 75 when it cannot run here (marked on the current cell: a failure under
# CI=true, a skip otherwise); any other status is the caller's to mark.
mc_start_containerd() {
	local rc=0 prev
	MC_CTRD="$1"
	# Stop it however the run ends; the suite's own EXIT trap runs after,
	# seeing the exit status (set +e: errexit would end the handler there).
	prev="$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT\$/\\1/")"
	# shellcheck disable=SC2064 # expand prev now
	[[ "$prev" == *mc_stop_containerd* ]] || trap "mc_rc=\$?; mc_stop_containerd; set +e; (exit \$mc_rc); $prev" EXIT
	"$ROOT/scripts/containerd.sh" start "$MC_CTRD" >"$2" 2>&1 || rc=$?
	if ((rc != 0)); then
		MC_CTRD=""
		((rc != 75)) || missing "containerd cannot run here (needs root and Debian's containerd; see $2)"
		return "$rc"
	fi
	note "$(containerd --version | awk '{print "containerd " $3}')"
}

mc_containerd() {
	local rc=0
	mc_start_containerd "$W/ctrd" "$LOG_DIR/containerd-start.log" || rc=$?
	if ((rc == 75)); then
		return 0
	elif ((rc != 0)); then
		fail_cell "containerd did not start (log $LOG_DIR/containerd-start.log)"
		return 0
	fi
	[[ -f "$MCW/pushed" ]] || check "oras cp the image, its twin and the ModelPack tag" mc_push
	check "ctr pull + mount linux/amd64" mc_ctr_mount mc amd64
	check "ctr pull + mount linux/arm64" mc_ctr_mount mc arm64
	check "ctr pull + mount TAG-image (beside ModelPack)" mc_ctr_mount mp-image amd64
	check "the ModelPack artifact alone gives no files" mc_ctr_modelpack
	mc_stop_containerd
}

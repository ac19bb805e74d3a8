# scripts/interop/tarballs.sh — tarballs other tools write, imported by
# oci-pack (sourced by scripts/interop.sh; issue 12 class 10).
# shellcheck shell=bash
#
# `regctl image export` (and `docker save` of Docker ≥ 25) write an OCI
# layout plus files of their own (manifest.json, repositories); oci-pack
# import must take them, ignore the extra files and write none of them.
# Needs: OP SRC T, check/cell/need (lib.sh).

# no_extras L: nothing but the layout's own names at the top of L.
no_extras() {
	local e
	for e in "$1"/* "$1"/.[!.]*; do
		[[ -e "$e" ]] || continue
		case "${e##*/}" in
		oci-layout | index.json | blobs | .oci-pack) ;;
		*)
			echo "import wrote ${e##*/} into $1" >&2
			return 1
			;;
		esac
	done
}

# run_tarballs: one row per producer.
run_tarballs() {
	local d="$T/tarballs"
	mkdir -p "$d"
	cell tools→oci-pack regctl-export import
	if need regctl; then
		check "regctl image export" regctl image export "ocidir://$SRC:raw" "$d/regctl.tar"
		check "oci-pack import" "$OP" import -q "$d/regctl.tar" "$d/L-regctl"
		check "oci-pack verify (tag raw)" "$OP" verify -q "$d/L-regctl" raw
		check "extra files not written" no_extras "$d/L-regctl"
	fi
	# docker save needs a daemon and an image (it cannot load an
	# artifact); its shape is checked by layout/archive's
	# TestImportLayoutPlusExtraFiles on a constructed tarball.
}

# scripts/interop/registry.sh — oci-pack push, pull and serve against the
# real tools (sourced by scripts/interop.sh, after oci-pack → tools).
# shellcheck shell=bash
#
# For each artifact ART packed into SRC: `oci-pack push` loads it into the
# registry at ADDR with its referrers; skopeo, crane, regctl and oras read
# the registry copy (digests identical, `oras discover` lists the
# referrer); `oci-pack pull` brings it back into a fresh layout that
# verifies and extracts byte-identical to SRC. Then `oci-pack serve` serves
# SRC in place: skopeo, crane, regctl, oras and oci-pack pull from it, and
# the OCI distribution-spec conformance suite (pull workflow, seeded with
# SRC:raw; push, discovery and management workflows off) must pass.
# Needs: OP SRC FX W ADDR, sk, py, chk_* and cmp_tree (to_tools.sh),
# check/cell/need/missing/note (lib.sh).

REG_ARTS=(raw dirgz withref modelpack helmdir)
# shellcheck disable=SC2034 # printed by print_matrix (lib.sh)
LEGEND["oci-pack registry"]="(push: oci-pack push to the registry, then each tool reads the registry copy; pull: oci-pack pull back, verify, extract identical; serve-TOOL: TOOL pulls from oci-pack serve)"

# chk_skopeo_raw REPO TAG WANT [ADDR]: skopeo's raw manifest has digest WANT.
chk_skopeo_raw() {
	local m
	m="$(mktemp "$W/manifest.XXXXXX")"
	sk inspect --tls-verify=false --raw "docker://${4:-$ADDR}/$1:$2" >"$m"
	expect_eq "digest of skopeo inspect --raw ${4:-$ADDR}/$1:$2" "$3" "$(sha_of "$m")"
}

# chk_same_extract REF-A REF-B: oci-pack extract writes the same tree.
chk_same_extract() {
	local a b
	a="$(mktemp -d "$W/extract.XXXXXX")" b="$(mktemp -d "$W/extract.XXXXXX")"
	"$OP" extract -q "$1" -o "$a/out"
	"$OP" extract -q "$2" -o "$b/out"
	cmp_tree "$a/out" "$b/out"
}

# chk_op_pull ART REF DEST WANT: oci-pack pull REF into DEST, digest WANT,
# verify, extract identical to SRC:ART, referrers kept.
chk_op_pull() {
	"$OP" pull "$2" "$3:v1" --plain-http
	expect_eq "digest of v1 in $3" "$4" "$(py layout-digest "$3" v1)"
	"$OP" verify "$3"
	chk_same_extract "$SRC:$1" "$3:v1"
	if [[ "$1" == withref ]]; then chk_op_referrers "$3:v1"; fi
}

# chk_serve_pull TOOL ART WANT: TOOL copies SADDR/src:ART into a layout.
chk_serve_pull() {
	local dest="$W/served/$1-$2" got
	rm -rf "$dest"
	mkdir -p "$W/served"
	case "$1" in
	skopeo) sk copy --src-tls-verify=false "docker://$SADDR/src:$2" "oci:$dest:$2" ;;
	crane) crane pull --insecure --format=oci "$SADDR/src:$2" "$dest" ;;
	regctl) regctl image copy --referrers "$SADDR/src:$2" "ocidir://$dest:$2" ;;
	oras) oras cp -r --from-plain-http "$SADDR/src:$2" --to-oci-layout "$dest:$2" ;;
	esac
	if [[ "$1" == crane ]]; then got="$(py layout-digest "$dest")"; else got="$(py layout-digest "$dest" "$2")"; fi
	expect_eq "digest $1 pulled from oci-pack serve" "$3" "$got"
	"$OP" verify "$dest"
}

# with_addr A CMD...: run CMD with ADDR=A (the chk_* helpers read ADDR).
with_addr() {
	local ADDR="$1"
	shift
	"$@"
}

# chk_conformance WANT: the distribution-spec suite's pull workflow against
# oci-pack serve, seeded with SRC:raw (its manifest and first layer).
chk_conformance() {
	local layer
	layer="$(py blobs <"$SRC/blobs/sha256/${1#sha256:}" | sed -n 2p | cut -d' ' -f1)"
	mkdir -p "$W/conformance"
	(cd "$W/conformance" && OCI_ROOT_URL="http://$SADDR" OCI_NAMESPACE=src OCI_TEST_PULL=1 \
		OCI_TEST_PUSH=0 OCI_TEST_CONTENT_DISCOVERY=0 OCI_TEST_CONTENT_MANAGEMENT=0 \
		OCI_TAG_NAME=raw OCI_MANIFEST_DIGEST="$1" OCI_BLOB_DIGEST="$layer" \
		OCI_HIDE_SKIPPED_WORKFLOWS=1 OCI_REPORT_DIR="$W/conformance" conformance -test.v)
}

# serve_start OUT ARGS...: start `oci-pack serve ARGS` on a free loopback
# port in the background, stdout to OUT and stderr to OUT.err; SADDR is the
# address it prints, SPID its PID. Fails if it printed none within 10 s.
serve_start() {
	local out="$1" i
	shift
	SADDR=""
	timeout 900 "$OP" serve "$@" --addr 127.0.0.1:0 >"$out" 2>"$out.err" &
	SPID=$!
	for ((i = 0; i < 100; i++)); do
		SADDR="$(head -n1 "$out" 2>/dev/null || true)"
		[[ -z "$SADDR" ]] || return 0
		sleep 0.1
	done
	return 1
}

# serve_stop: stop the server serve_start started.
serve_stop() {
	[[ -n "${SPID:-}" ]] || return 0
	kill "$SPID" 2>/dev/null || true
	wait "$SPID" 2>/dev/null || true
	SPID=""
}

run_registry_interop() {
	local dir="oci-pack registry" art want t
	if ! has_cmd push || ! has_cmd serve; then
		cell "$dir" all oci-pack
		missing "oci-pack has no push/serve command"
		return 0
	fi
	for art in "${REG_ARTS[@]}"; do
		wanted "$art" || continue
		[[ "${CELL_STATUS[oci-pack→tools|$art|pack]:-}" == PASS ]] || continue
		want="$(py layout-digest "$SRC" "$art")"
		cell "$dir" "$art" push
		check "oci-pack push" "$OP" push "$SRC:$art" "$ADDR/op/$art:v1" --plain-http
		check "registry digest" chk_reg_digest "op/$art" v1 "$want"
		if [[ "$art" == withref ]] && need oras; then
			check "oras discover lists the referrer" chk_discover "op/$art" v1
		fi
		cell_ok || continue
		for t in skopeo crane regctl; do
			cell "$dir" "$art" "$t"
			need "$t" || continue
			case "$t" in
			skopeo) check "skopeo inspect --raw" chk_skopeo_raw "op/$art" v1 "$want" ;;
			crane) check "crane manifest, validate" chk_crane_validate "op/$art" v1 "$want" ;;
			regctl) check "regctl manifest get" chk_regctl_get "op/$art" v1 "$want" ;;
			esac
		done
		cell "$dir" "$art" pull
		check "oci-pack pull, verify, extract" chk_op_pull "$art" "$ADDR/op/$art:v1" "$W/op-pull/$art" "$want"
	done

	if ! serve_start "$W/serve.out" "$SRC" --name src; then
		cell "$dir" serve oci-pack
		fail_cell "oci-pack serve did not start: $(cat "$W/serve.out.err")"
		serve_stop
		return 0
	fi
	if have regctl; then regctl registry set --tls disabled "$SADDR" >/dev/null 2>&1 || true; fi
	for art in "${REG_ARTS[@]}"; do
		wanted "$art" || continue
		[[ "${CELL_STATUS[oci-pack→tools|$art|pack]:-}" == PASS ]] || continue
		want="$(py layout-digest "$SRC" "$art")"
		for t in skopeo crane regctl oras; do
			cell "$dir" "$art" "serve-$t"
			need "$t" || continue
			check "$t pulls from oci-pack serve" chk_serve_pull "$t" "$art" "$want"
			if [[ "$t" == oras ]]; then
				check "oras pull (files)" with_addr "$SADDR" chk_oras_pull "$art" src "$art" "$W/served/oras-files-$art"
				if [[ "$art" == withref ]]; then
					check "oras discover (referrers API)" with_addr "$SADDR" chk_discover src "$art"
				fi
			fi
		done
		cell "$dir" "$art" serve-op
		check "oci-pack pull from oci-pack serve" chk_op_pull "$art" "$SADDR/src:$art" "$W/served/op-$art" "$want"
	done
	if [[ "${CELL_STATUS[oci-pack→tools|raw|pack]:-}" == PASS ]]; then
		cell "$dir" raw conformance
		if need conformance; then
			check "distribution-spec conformance, pull workflow" chk_conformance "$(py layout-digest "$SRC" raw)"
		fi
	fi
	serve_stop
}

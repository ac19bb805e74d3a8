# scripts/interop/sign.sh — offline signatures against cosign (sourced by
# scripts/interop.sh, which calls run_sign once the registry is up).
# shellcheck shell=bash
#
#   oci-pack → cosign: oci-pack signs a layout offline (bundle form, and
#     --legacy-tag); `oras cp -r` loads it into the registry (the legacy
#     sha256-<hex>.sig tag is copied on its own: it is a tag, not a
#     referrer); `cosign verify --key k.pub --insecure-ignore-tlog=true
#     REG/REPO@DIGEST` (v3.1.3: the bundle; v2 as cosign2: the .sig tag)
#     exits 0, and fails with another key.
#   across the gap: `export L:v1 --sign` → `import --require-signature`
#     into another layout carries both forms (the .sig tag too); `regctl
#     image copy --referrers --digest-tags` loads the far layout into the
#     registry, where cosign (bundle) and cosign2 (.sig) verify them;
#     `inspect` warns that skopeo/crane copy would drop them.
#   cosign → oci-pack: cosign v3 signs in the registry with a key and a
#     signing config without services (no tlog, no network); `oras cp -r
#     --to-oci-layout` pulls it; `oci-pack verify --key k.pub` passes and
#     fails (exit 3) with another key; `oci-pack gc` keeps the signature
#     while v1 is tagged — in oras's layout (referrer listed untagged) and
#     in regctl's (referrer only in the sha256-<hex> index) — and drops it
#     with v1. The same for cosign v2's .sig tag.
#
# Needs: OP, ADDR, W, check/cell/need from interop.sh and lib.sh.

# sign_digest LAYOUT:TAG -> the manifest digest (stdout)
sign_digest() {
	"$OP" inspect "$1" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["descriptor"]["digest"])'
}

# exits_with CODE CMD...: CMD exits with CODE.
exits_with() {
	local want="$1" rc=0
	shift
	"$@" || rc=$?
	echo "exit $rc (want $want)"
	[[ "$rc" == "$want" ]]
}

# fails CMD...: CMD exits non-zero.
fails() {
	if "$@"; then
		echo "unexpected success: $*"
		return 1
	fi
	echo "failed as expected"
}

# warns_loaders LAYOUT:TAG: inspect warns that skopeo/crane copy drop the
# tag's signatures and names oras cp -r and regctl image copy --referrers.
warns_loaders() {
	"$OP" inspect "$1" 2>&1 >/dev/null | tee "$W/inspect-warning.txt"
	grep -q 'skopeo copy' "$W/inspect-warning.txt" && grep -q 'oras cp -r' "$W/inspect-warning.txt" &&
		grep -q 'regctl image copy --referrers' "$W/inspect-warning.txt"
}

# empty_blobs LAYOUT: no blob is left in LAYOUT.
empty_blobs() {
	local n
	n="$(find "$1/blobs" -type f | wc -l)"
	echo "$n blob(s) in $1"
	[[ "$n" == 0 ]]
}

# has_tag LAYOUT TAG: oci-pack ls --all lists TAG.
has_tag() {
	"$OP" ls "$1" --all | awk '{print $1}' | grep -qxF "$2"
}

# push_in DIR REF FILE: oras push FILE (relative, as oras wants it) from DIR.
push_in() {
	cd "$1" && oras push --plain-http "$2" --artifact-type application/vnd.oci-pack.test.v1 "$3"
}

run_sign() {
	local S="$W/sign" d hex d2 hex2
	mkdir -p "$S"
	# cosign looks for a TUF root on the network first; keep its cache here.
	export TUF_ROOT="$S/tuf" OCI_PACK_PASSWORD=interop COSIGN_PASSWORD=interop
	printf 'weights\n' >"$S/model.bin"

	cell signatures oci-pack→cosign cosign
	check "key generate" "$OP" key generate --output-key-prefix "$S/k"
	check "another key" "$OP" key generate --output-key-prefix "$S/other"
	check "key file mode 0600" exits_with 0 test "$(stat -c %a "$S/k.key")" = 600
	check pack "$OP" pack "$S/L:v1" "$S/model.bin" --artifact-type application/vnd.oci-pack.test.v1
	check sign "$OP" sign "$S/L:v1" --key "$S/k.key" --legacy-tag --identity "$ADDR/signed"
	check "oci-pack verify" "$OP" verify "$S/L:v1" --key "$S/k.pub"
	d="$(sign_digest "$S/L:v1")" || d=""
	hex="${d#sha256:}"
	check "oras cp -r" oras cp -r --from-oci-layout --to-plain-http "$S/L:v1" "$ADDR/signed:v1"
	if need cosign; then
		check "cosign verify (v3, bundle)" cosign verify --key "$S/k.pub" --insecure-ignore-tlog=true "$ADDR/signed@$d"
		check "cosign verify, another key, fails" fails cosign verify --key "$S/other.pub" --insecure-ignore-tlog=true "$ADDR/signed@$d"
	fi
	cell signatures oci-pack→cosign cosign2
	check "oras cp the .sig tag" oras cp --from-oci-layout --to-plain-http "$S/L:sha256-$hex.sig" "$ADDR/signed:sha256-$hex.sig"
	if need cosign2; then
		check "cosign2 verify (v2, .sig tag)" cosign2 verify --key "$S/k.pub" --insecure-ignore-tlog=true "$ADDR/signed@$d"
		check "cosign2 verify, another key, fails" fails cosign2 verify --key "$S/other.pub" --insecure-ignore-tlog=true "$ADDR/signed@$d"
	fi
	check "oci-pack push L:v1 (one tag carries its .sig tag)" "$OP" push "$S/L:v1" "$ADDR/pushed:v1" --plain-http
	if need cosign2; then
		check "cosign2 verify after oci-pack push of one tag" cosign2 verify --key "$S/k.pub" --insecure-ignore-tlog=true "$ADDR/pushed@$d"
	fi

	cell signatures across-the-gap cosign
	check "inspect warns of loaders that drop signatures" warns_loaders "$S/L:v1"
	check "export --sign" "$OP" export "$S/L:v1" -o "$S/v1.tar" --sign "$S/k.key"
	check "import --require-signature" "$OP" import "$S/v1.tar" "$S/far" --require-signature --key "$S/k.pub"
	check "oci-pack verify at the far side" "$OP" verify "$S/far" v1 --key "$S/k.pub"
	if need regctl; then
		check "regctl image copy --referrers --digest-tags" regctl image copy --referrers --digest-tags "ocidir://$S/far:v1" "$ADDR/far:v1"
		if need cosign; then
			check "cosign verify (v3, bundle)" cosign verify --key "$S/k.pub" --insecure-ignore-tlog=true "$ADDR/far@$d"
		fi
	fi
	cell signatures across-the-gap cosign2
	if need regctl && need cosign2; then
		check "cosign2 verify (v2, the .sig tag carried by export L:v1)" cosign2 verify --key "$S/k.pub" --insecure-ignore-tlog=true "$ADDR/far@$d"
	fi

	cell signatures cosign→oci-pack cosign
	if need cosign; then
		check "cosign generate-key-pair" cosign generate-key-pair --output-key-prefix "$S/ck"
		check "cosign signing-config create (no services)" cosign signing-config create --out "$S/sc.json"
		check "oras push" push_in "$S" "$ADDR/cosigned:v1" model.bin
		d2="$(crane digest --insecure "$ADDR/cosigned:v1")" || d2=""
		check "cosign sign (bundle, no tlog)" cosign sign --key "$S/ck.key" --signing-config "$S/sc.json" --allow-insecure-registry --allow-http-registry -y "$ADDR/cosigned@$d2"
		check "oras cp -r --to-oci-layout" oras cp -r --from-plain-http "$ADDR/cosigned@$d2" --to-oci-layout "$S/back:v1"
		check "oci-pack verify --key" "$OP" verify "$S/back" --key "$S/ck.pub"
		check "oci-pack verify, another key: exit 3" exits_with 3 "$OP" verify "$S/back" --key "$S/other.pub"
		check "oci-pack gc keeps the signature (oras layout)" "$OP" gc "$S/back"
		check "oci-pack verify --key after gc" "$OP" verify "$S/back" v1 --key "$S/ck.pub"
		if need regctl; then
			check "regctl image copy --referrers to ocidir" regctl image copy --referrers "$ADDR/cosigned@$d2" "ocidir://$S/back3:v1"
			check "oci-pack gc keeps the signature (regctl layout)" "$OP" gc "$S/back3"
			check "oci-pack verify --key after gc (regctl layout)" "$OP" verify "$S/back3" v1 --key "$S/ck.pub"
		fi
		check "untag v1" "$OP" untag "$S/back:v1"
		check "oci-pack gc drops the signature with v1" "$OP" gc "$S/back"
		check "no blob left" empty_blobs "$S/back"
	fi
	cell signatures cosign→oci-pack cosign2
	if need cosign2 && [[ -n "${d2:-}" ]]; then
		hex2="${d2#sha256:}"
		check "cosign2 sign (.sig tag, no tlog)" cosign2 sign --key "$S/ck.key" --tlog-upload=false --allow-insecure-registry -y "$ADDR/cosigned@$d2"
		check "oci-pack pull brings the .sig tag" "$OP" pull "$ADDR/cosigned@$d2" "$S/pulled:v1" --plain-http
		check "the pulled layout holds sha256-<hex>.sig" has_tag "$S/pulled" "sha256-$hex2.sig"
		check "oci-pack verify --key (pulled .sig tag)" "$OP" verify "$S/pulled" v1 --key "$S/ck.pub"
		check "oras cp the .sig tag" oras cp --from-plain-http "$ADDR/cosigned:sha256-$hex2.sig" --to-oci-layout "$S/back2:sha256-$hex2.sig"
		check "oras cp the subject" oras cp --from-plain-http "$ADDR/cosigned@$d2" --to-oci-layout "$S/back2:v1"
		check "oci-pack verify --key" "$OP" verify "$S/back2:v1" --key "$S/ck.pub"
		check "oci-pack verify, another key: exit 3" exits_with 3 "$OP" verify "$S/back2:v1" --key "$S/other.pub"
	fi
	unset TUF_ROOT OCI_PACK_PASSWORD COSIGN_PASSWORD
}

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
#   cosign → oci-pack: cosign v3 signs in the registry with a key and a
#     signing config without services (no tlog, no network); `oras cp -r
#     --to-oci-layout` pulls it; `oci-pack verify --key k.pub` passes and
#     fails (exit 3) with another key. The same for cosign v2's .sig tag.
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
	check "oci-pack verify" "$OP" verify "$S/L" v1 --key "$S/k.pub"
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
	fi
	cell signatures cosign→oci-pack cosign2
	if need cosign2 && [[ -n "${d2:-}" ]]; then
		hex2="${d2#sha256:}"
		check "cosign2 sign (.sig tag, no tlog)" cosign2 sign --key "$S/ck.key" --tlog-upload=false --allow-insecure-registry -y "$ADDR/cosigned@$d2"
		check "oras cp the .sig tag" oras cp --from-plain-http "$ADDR/cosigned:sha256-$hex2.sig" --to-oci-layout "$S/back2:sha256-$hex2.sig"
		check "oras cp the subject" oras cp --from-plain-http "$ADDR/cosigned@$d2" --to-oci-layout "$S/back2:v1"
		check "oci-pack verify --key" "$OP" verify "$S/back2" v1 --key "$S/ck.pub"
		check "oci-pack verify, another key: exit 3" exits_with 3 "$OP" verify "$S/back2" v1 --key "$S/other.pub"
	fi
	unset TUF_ROOT OCI_PACK_PASSWORD COSIGN_PASSWORD
}

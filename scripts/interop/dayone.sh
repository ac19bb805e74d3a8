# scripts/interop/dayone.sh — the first day at a real site (issue 14), with
# the real tools (sourced by scripts/interop.sh; run_dayone adds its cells).
# shellcheck shell=bash
#
#   - a directory made under umask 022 and under 002 packs to one digest,
#     and GNU tar lists the layer's modes as git would store them;
#   - a registry-looking reference is refused, and the command the hint
#     names (oci-pack push), skopeo copy and oras cp load the layout into
#     the registry;
#   - the completion scripts parse in bash (and zsh when installed).
#
# Needs: OP, W, ADDR (empty: no registry), and scripts/interop.sh's helpers.

dayone_tree() { # DIR UMASK
	(umask "$2" && mkdir -p "$1/model/sub" && printf w >"$1/model/sub/w.bin" &&
		printf '#!/bin/sh\n' >"$1/model/run.sh" && chmod +x "$1/model/run.sh")
}

chk_dayone_umask() {
	local d="$W/dayone" a b
	dayone_tree "$d/022" 022
	dayone_tree "$d/002" 002
	a="$(cd "$d/022" && "$OP" pack -q "$d/L:a" model --artifact-type application/vnd.acme.test.v1)"
	b="$(cd "$d/002" && "$OP" pack -q "$d/L:b" model --artifact-type application/vnd.acme.test.v1)"
	expect_eq "digest under umask 002" "$a" "$b"
	local layer
	layer="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][0]["digest"])' "$d/L/blobs/sha256/${a#sha256:}")"
	tar -tvzf "$d/L/blobs/sha256/${layer#sha256:}" | tee "$d/modes.txt"
	if grep -vE '^(-rw-r--r--|-rwxr-xr-x|drwxr-xr-x|lrwxrwxrwx) ' "$d/modes.txt"; then
		echo "layer modes are not normalised"
		return 1
	fi
}

chk_dayone_refused() {
	local d="$W/dayone" rc=0
	(cd "$d" && "$OP" pack "$ADDR/dayone/model:v1" 022/model --artifact-type application/vnd.acme.test.v1) 2>"$d/refused.txt" || rc=$?
	cat "$d/refused.txt"
	[[ $rc == 2 ]] || { echo "exit $rc, want 2"; return 1; }
	grep -q "oci-pack push LAYOUT:TAG $ADDR/dayone/model:v1" "$d/refused.txt"
	[[ ! -e "$d/${ADDR%%:*}" ]] || { echo "a directory ${ADDR%%:*} was created"; return 1; }
}

chk_dayone_hint_push() { "$OP" push "$W/dayone/L:a" "$ADDR/dayone/model:v3" --plain-http; }
chk_dayone_hint_skopeo() { sk copy --dest-tls-verify=false "oci:$W/dayone/L:a" "docker://$ADDR/dayone/model:v1"; }
chk_dayone_hint_oras() { oras cp --from-oci-layout "$W/dayone/L:a" --to-plain-http "$ADDR/dayone/model:v2"; }

chk_dayone_completion() {
	"$OP" completion bash | bash -n
	if have zsh; then "$OP" completion zsh | zsh -n; fi
}

run_dayone() {
	cell dayone umask tar
	check "same digest under umask 022 and 002, normalised modes" chk_dayone_umask
	cell dayone completion bash
	check "completion scripts parse" chk_dayone_completion
	if [[ -z "$ADDR" ]]; then
		cell dayone registry-ref skopeo
		missing "no registry"
		return
	fi
	cell dayone registry-ref oci-pack
	check "registry reference refused with a hint, nothing created" chk_dayone_refused
	check "the hint's oci-pack push loads the layout" chk_dayone_hint_push
	cell dayone registry-ref skopeo
	need skopeo && check "skopeo copy loads the layout" chk_dayone_hint_skopeo
	cell dayone registry-ref oras
	need oras && check "oras cp loads the layout" chk_dayone_hint_oras
}

# scripts/interop/fixtures.sh — inputs for scripts/interop.sh (sourced).
# shellcheck shell=bash
#
# make_fixtures FX: writes, below FX (a directory this run owns):
#   files/      a.txt, b.bin (random), nested/c.txt          raw-file layers
#   dirsrc/d/   files, a subdirectory, an executable, a symlink, an empty dir
#   cfg.json, widget.json, icon.png, sbom.spdx.json
#   rootfs/     etc/hello, usr/bin/tool (0755): content of the umoci image
#   model/      ModelPack-shaped (bf16-like safetensors shards, config.json,
#               tokenizer.json, README.md)
#   chart/mychart/  a small Helm chart (written by hand: no helm needed)
#   pkg/mychart-0.1.0.tgz  `helm package` of it (only when helm is present)
# and for each artifact ART an expected `oras pull` tree FX/expect/ART.
#
# pack_art SRC FX ART: packs artifact ART into the layout SRC with oci-pack
# ($OP), tagged ART; withref also gets an SPDX referrer, whose digest goes to
# FX/sbom.digest. ART: raw dirgz dirzst config nofiles harbor withref
# modelpack helmdir helmtgz (helmtgz needs FX/pkg, i.e. helm).

make_fixtures() {
	local fx="$1"
	mkdir -p "$fx/files/nested" "$fx/dirsrc/d/sub/deeper" "$fx/dirsrc/d/empty" "$fx/chart/mychart/templates" "$fx/expect"
	printf 'hello, registry\n' >"$fx/files/a.txt"
	head -c 200000 /dev/urandom >"$fx/files/b.bin"
	printf 'nested file\n' >"$fx/files/nested/c.txt"

	printf 'one\n' >"$fx/dirsrc/d/one.txt"
	printf 'two\n' >"$fx/dirsrc/d/sub/two.txt"
	printf 'three\n' >"$fx/dirsrc/d/sub/deeper/three.txt"
	printf '#!/bin/sh\necho run\n' >"$fx/dirsrc/d/run.sh"
	chmod 0755 "$fx/dirsrc/d/run.sh"
	chmod 0600 "$fx/dirsrc/d/sub/two.txt"
	ln -s one.txt "$fx/dirsrc/d/link-to-one"
	ln -s ../one.txt "$fx/dirsrc/d/sub/up-link"

	printf '{"name":"acme","version":"1"}' >"$fx/cfg.json"
	printf '{"name":"widget","secret":"s","internal":"i","size":3}' >"$fx/widget.json"
	py png "$fx/icon.png"
	printf '{"spdxVersion":"SPDX-2.3","name":"interop","packages":[]}' >"$fx/sbom.spdx.json"

	py model "$fx/model"

	mkdir -p "$fx/rootfs/etc" "$fx/rootfs/usr/bin"
	printf 'hello from umoci\n' >"$fx/rootfs/etc/hello"
	printf '#!/bin/sh\necho tool\n' >"$fx/rootfs/usr/bin/tool"
	chmod 0755 "$fx/rootfs/usr/bin/tool"

	cat >"$fx/chart/mychart/Chart.yaml" <<'EOF'
apiVersion: v2
name: mychart
description: A chart for the oci-pack interop suite
type: application
version: 0.1.0
appVersion: "1.0.0"
EOF
	cat >"$fx/chart/mychart/values.yaml" <<'EOF'
greeting: hello
EOF
	cat >"$fx/chart/mychart/templates/configmap.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-greeting
data:
  greeting: {{ .Values.greeting | quote }}
EOF
	if command -v helm >/dev/null 2>&1; then
		mkdir -p "$fx/pkg"
		helm package "$fx/chart/mychart" -d "$fx/pkg" >/dev/null
	fi

	# What `oras pull` should write for each artifact (titles → paths; raw
	# files carry no mode, unpacked directories do).
	local e="$fx/expect"
	cp -a "$fx/files" "$e/raw"
	cp -a "$fx/dirsrc" "$e/dirgz"
	# A directory other tools tar (oras push) keeps its modes as they are.
	cp -a "$fx/dirsrc" "$e/dir-asis"
	# Directory layers store permissions as git does (0644, or 0755 for
	# directories and executables) unless --preserve-mode: the 0600 file
	# comes back 0644.
	chmod 0644 "$e/dirgz/d/sub/two.txt"
	mkdir -p "$e/config" "$e/nofiles" "$e/harbor" "$e/withref" "$e/regctl-put"
	cp "$fx/files/a.txt" "$fx/files/b.bin" "$e/regctl-put/"
	cp "$fx/files/a.txt" "$e/config/"
	cp "$fx/files/a.txt" "$fx/icon.png" "$e/harbor/"
	cp "$fx/files/a.txt" "$e/withref/"
	cp -a "$fx/model" "$e/modelpack"
	cp -a "$fx/chart" "$e/helmdir"
	if [[ -d "$fx/pkg" ]]; then cp -a "$fx/pkg" "$e/helmtgz"; fi
}

# pack_art SRC FX ART: pack one artifact into SRC (created if missing).
pack_art() {
	local src="$1" fx="$2" art="$3" t="application/vnd.acme.interop.v1"
	case "$art" in
	raw) (cd "$fx/files" && "$OP" pack -q "$src:raw" a.txt b.bin nested/c.txt --artifact-type "$t") ;;
	dirgz) (cd "$fx/dirsrc" && "$OP" pack -q "$src:dirgz" d --artifact-type "$t") ;;
	dirzst) (cd "$fx/dirsrc" && "$OP" pack -q "$src:dirzst" d --compression zstd --artifact-type "$t") ;;
	config) (cd "$fx/files" && "$OP" pack -q "$src:config" a.txt --config "$fx/cfg.json:application/vnd.acme.config.v1+json") ;;
	nofiles) "$OP" pack -q "$src:nofiles" --artifact-type application/vnd.acme.nofiles.v1 ;;
	harbor)
		(cd "$fx/files" && "$OP" pack -q "$src:harbor" a.txt \
			--config "$fx/widget.json:application/vnd.acme.widget.config.v1+json" \
			--icon "$fx/icon.png" --skip-list secret,internal)
		;;
	withref)
		(cd "$fx/files" && "$OP" pack -q "$src:withref" a.txt --artifact-type application/vnd.acme.subject.v1)
		(cd "$fx" && "$OP" attach -q "$src:withref" sbom.spdx.json --artifact-type application/spdx+json) >"$fx/sbom.digest"
		grep -Eq '^sha256:[0-9a-f]{64}$' "$fx/sbom.digest"
		;;
	modelpack) (cd "$fx" && "$OP" pack -q "$src:modelpack" model --preset modelpack) ;;
	helmdir) (cd "$fx/chart" && "$OP" pack -q "$src:helmdir" mychart --preset helm) ;;
	helmtgz) (cd "$fx/pkg" && "$OP" pack -q "$src:helmtgz" mychart-0.1.0.tgz --preset helm) ;;
	*)
		echo "pack_art: unknown artifact $art" >&2
		return 2
		;;
	esac
}

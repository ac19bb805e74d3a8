# scripts/interop/from_tools.sh — tools → oci-pack (sourced by scripts/interop.sh).
# shellcheck shell=bash
#
# Each producer row writes an OCI layout with another tool; oci-pack must
# list, inspect, verify, export and extract it (and list its referrers).
# Needs: OP FX W ADDR T (the directory for these layouts), sk, py, cmp_tree,
# expect_eq (to_tools.sh), check/cell/need/missing/has_cmd.

# shellcheck disable=SC2034 # printed by print_matrix (lib.sh)
LEGEND["tools→oci-pack"]="(produce: the tool writes the layout; other columns: that oci-pack command on it)"
# shellcheck disable=SC2034 # used by scripts/interop.sh
FROM_ROWS=(oras-files oras-dir regctl-put crane-pull skopeo-copy helm-push umoci-image oras-referrer regctl-referrer)

# row_tools ROW: the tools ROW needs.
row_tools() {
	case "$1" in
	oras-files | oras-dir | oras-referrer) echo oras ;;
	regctl-put | regctl-referrer) echo regctl ;;
	crane-pull) echo oras crane ;;
	skopeo-copy) echo oras skopeo ;;
	helm-push) echo helm skopeo ;;
	umoci-image) echo umoci ;;
	esac
}

# row_expect ROW -> "[--no-mode] DIR": the files extract must write ("" = none).
row_expect() {
	case "$1" in
	oras-files | crane-pull) echo "--no-mode $FX/expect/raw" ;;
	oras-dir | skopeo-copy) echo "$FX/expect/dir-asis" ;; # oras tars it: modes kept (0600)
	regctl-put) echo "--no-mode $FX/expect/regctl-put" ;;
	oras-referrer | regctl-referrer) echo "--no-mode $FX/expect/withref" ;;
	umoci-image) echo "$FX/rootfs" ;;
	helm-push) echo "" ;;
	esac
}

# produce ROW: make layout T/ROW; write the tag its artifact has to T/ROW.tag
# and, for referrer rows, the referrer's digest to T/ROW.referrer.
produce() {
	local row="$1" l="$T/$1" t=application/vnd.acme.interop.v1 tag=v1
	case "$row" in
	oras-files) (cd "$FX/files" && oras push --oci-layout "$l:v1" a.txt b.bin nested/c.txt --artifact-type "$t") ;;
	oras-dir) (cd "$FX/dirsrc" && oras push --oci-layout "$l:v1" d --artifact-type "$t") ;;
	regctl-put)
		(cd "$FX/files" && regctl artifact put --artifact-type "$t" --file-title \
			-f a.txt -m text/plain -f b.bin -m application/octet-stream "ocidir://$l:v1")
		;;
	crane-pull)
		(cd "$FX/files" && oras push --plain-http "$ADDR/src/files:v1" a.txt b.bin nested/c.txt --artifact-type "$t")
		# --annotate-ref: the tag is the whole reference, which the
		# image-spec ref.name grammar allows (':' and '/' included).
		crane pull --insecure --annotate-ref --format=oci "$ADDR/src/files:v1" "$l"
		tag="$ADDR/src/files:v1"
		;;
	skopeo-copy)
		(cd "$FX/dirsrc" && oras push --plain-http "$ADDR/src/dir:v1" d --artifact-type "$t")
		sk copy --src-tls-verify=false "docker://$ADDR/src/dir:v1" "oci:$l:v1"
		;;
	helm-push)
		helm push --plain-http "$FX/pkg/mychart-0.1.0.tgz" "oci://$ADDR/src/helm"
		sk copy --src-tls-verify=false "docker://$ADDR/src/helm/mychart:0.1.0" "oci:$l:0.1.0"
		tag=0.1.0
		;;
	umoci-image)
		umoci init --layout "$l"
		umoci new --image "$l:v1"
		umoci insert --rootless --image "$l:v1" "$FX/rootfs" /
		;;
	oras-referrer)
		(cd "$FX/files" && oras push --oci-layout "$l:v1" a.txt --artifact-type "$t")
		(cd "$FX" && oras attach --oci-layout "$l:v1" sbom.spdx.json --artifact-type application/spdx+json --format json) |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])' >"$l.referrer"
		;;
	regctl-referrer)
		(cd "$FX/files" && regctl artifact put --artifact-type "$t" --file-title -f a.txt -m text/plain "ocidir://$l:v1")
		(cd "$FX" && regctl artifact put --subject "ocidir://$l:v1" --artifact-type application/spdx+json \
			--file-title -f sbom.spdx.json -m application/spdx+json)
		# regctl keeps an OCI layout's referrers in the referrers-tag-schema
		# index (tag sha256-<subject hex>), not as index.json entries.
		regctl artifact list "ocidir://$l:v1" --format '{{range .Descriptors}}{{println .Digest}}{{end}}' >"$l.referrer"
		;;
	esac
	echo "$tag" >"$l.tag"
	py layout-digest "$l" "$tag"
	if [[ -f "$l.referrer" ]]; then
		grep -Eqx 'sha256:[0-9a-f]{64}' "$l.referrer"
	fi
}

chk_op_ls() { # LAYOUT TAG DIGEST: ls lists TAG with DIGEST
	"$OP" ls "$1" | tee "$W/ls.txt"
	awk -v t="$2" -v d="$3" '$1 == t && $2 == d { found = 1 } END { exit !found }' "$W/ls.txt"
}

chk_op_inspect() { # REF DIGEST
	"$OP" inspect "$1" | tee "$W/inspect.txt"
	"$OP" inspect "$1" --format json | python3 -m json.tool >/dev/null
	grep -q "$2" "$W/inspect.txt"
}

has_blob() { # LAYOUT DIGEST
	[[ -f "$1/blobs/sha256/${2#sha256:}" ]] || {
		echo "$1 lacks blob $2"
		return 1
	}
}

chk_op_export() { # LAYOUT REF DIGEST OUT
	local d="$3" x="$4"
	mkdir -p "$x"
	"$OP" export "$2" -o "$x/a.tar"
	tar -tf "$x/a.tar" >"$x/members"
	[[ "$(tail -n 1 "$x/members")" == index.json ]] || {
		echo "index.json is not the archive's last member: $(tail -n 1 "$x/members")"
		return 1
	}
	mkdir "$x/untarred"
	tar -xf "$x/a.tar" -C "$x/untarred"
	"$OP" verify "$x/untarred"
	has_blob "$x/untarred" "$d"
	if has_cmd import; then
		"$OP" import "$x/a.tar" "$x/imported"
		"$OP" verify "$x/imported"
		has_blob "$x/imported" "$d"
	else
		echo "oci-pack import does not exist yet: checked the export with tar -x + verify only"
	fi
}

chk_op_extract() { # ROW LAYOUT REF DIGEST OUT
	local exp out="$5"
	exp="$(row_expect "$1")"
	"$OP" extract "$3" -o "$out"
	if [[ -n "$exp" ]]; then
		# shellcheck disable=SC2086 # "[--no-mode] DIR" splits on purpose
		cmp_tree $exp "$out"
	fi
	if [[ "$1" != umoci-image ]] && have oras; then
		# extract must write what `oras pull` writes from the same layout
		# (by digest: oras splits LAYOUT:TAG at the last ':').
		oras pull --oci-layout "$2@$4" -o "$out.oras"
		mkdir -p "$out.oras"
		cmp_tree --no-mode "$out.oras" "$out"
	fi
}

chk_op_referrers_of() { # REF WANT-FILE
	"$OP" referrers "$1" | tee "$W/referrers.txt"
	while read -r d; do
		grep -q "$d" "$W/referrers.txt" || {
			echo "oci-pack referrers $1 does not list $d"
			return 1
		}
	done <"$2"
}

# run_from_tools ROW
run_from_tools() {
	local row="$1" dir=tools→oci-pack tool l="$T/$1" tag ref d c
	cell "$dir" "$row" produce
	for tool in $(row_tools "$row"); do
		if ! have "$tool"; then
			missing "$tool not installed"
			return 0
		fi
	done
	if [[ "$row" == helm-push && ! -f "$FX/pkg/mychart-0.1.0.tgz" ]]; then
		missing "no packaged chart (helm package failed?)"
		return 0
	fi
	check "produce with $(row_tools "$row")" produce "$row"
	cell_ok || return 0
	tag="$(cat "$l.tag")"
	ref="$l:$tag"
	d="$(py layout-digest "$l" "$tag")"

	cell "$dir" "$row" ls
	check "oci-pack ls" chk_op_ls "$l" "$tag" "$d"
	cell "$dir" "$row" inspect
	check "oci-pack inspect" chk_op_inspect "$ref" "$d"
	check "oci-pack inspect by digest" chk_op_inspect "$l@$d" "$d"
	cell "$dir" "$row" verify
	check "oci-pack verify" "$OP" verify "$l"
	for c in export extract; do
		cell "$dir" "$row" "$c"
		if ! has_cmd "$c"; then
			missing "oci-pack $c does not exist yet"
			continue
		fi
		if [[ "$c" == export ]]; then
			check "oci-pack export" chk_op_export "$l" "$ref" "$d" "$W/export/$row"
		else
			check "oci-pack extract" chk_op_extract "$row" "$l" "$ref" "$d" "$W/extract/$row"
		fi
	done
	if [[ -f "$l.referrer" ]]; then
		cell "$dir" "$row" referrers
		check "oci-pack referrers" chk_op_referrers_of "$ref" "$l.referrer"
	fi
}

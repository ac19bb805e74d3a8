# scripts/interop/to_tools.sh — oci-pack → tools (sourced by scripts/interop.sh).
# shellcheck shell=bash
#
# For an artifact ART packed into SRC, each copy tool loads SRC:ART into the
# registry at ADDR, a different tool pulls it back into a fresh layout, and
# the consumers (crane validate, regctl manifest get, oras pull, helm, modctl,
# oras discover) read the registry copy. Needs: OP SRC FX W ADDR, sk (skopeo
# with a permissive policy), py, check/cell/note from lib.sh.

PUSHERS=(skopeo oras regctl crane)
# shellcheck disable=SC2034 # printed by print_matrix (lib.sh)
LEGEND["oci-pack→tools"]="(pack: oci-pack packs it; skopeo..crane: that tool loads the registry, the next pulls it back (skopeo→oras→regctl→crane→skopeo), consumers read the registry copy; umoci: umoci ls+stat on the layout; archive: oci-pack export read by skopeo oci-archive and oras)"

# pullback_of TOOL: the tool that pulls back what TOOL pushed.
pullback_of() {
	case "$1" in
	skopeo) echo oras ;;
	oras) echo regctl ;;
	regctl) echo crane ;;
	crane) echo skopeo ;;
	esac
}

# target TOOL ART -> "REPO TAG" (helm wants REPO/.../<chart name>:<version>).
target() {
	case "$2" in
	helm*) echo "$1/$2/mychart 0.1.0" ;;
	*) echo "$1/$2 v1" ;;
	esac
}

# ---------------------------------------------------------------- copy tools
# push_TOOL ART REPO TAG: SRC:ART → ADDR/REPO:TAG, with referrers where the
# tool can copy them.
push_skopeo() { sk copy --dest-tls-verify=false "oci:$SRC:$1" "docker://$ADDR/$2:$3"; }
push_oras() { oras cp -r --from-oci-layout "$SRC:$1" --to-plain-http "$ADDR/$2:$3"; }
push_regctl() { regctl image copy --referrers "ocidir://$SRC:$1" "$ADDR/$2:$3"; }
push_crane() {
	# crane push takes a whole layout and refuses one with more than one
	# index.json entry (unless --index, which pushes the index itself).
	local one="$W/crane-src/$1"
	rm -rf "$one"
	mkdir -p "$W/crane-src"
	"$OP" copy -q --no-referrers "$SRC:$1" "$one:$1"
	crane push --insecure "$one" "$ADDR/$2:$3"
}

# pull_TOOL REPO TAG DEST: ADDR/REPO:TAG → a new layout DEST (tag TAG, except
# crane, which records no tag).
pull_skopeo() { sk copy --src-tls-verify=false "docker://$ADDR/$1:$2" "oci:$3:$2"; }
pull_oras() { oras cp -r --from-plain-http "$ADDR/$1:$2" --to-oci-layout "$3:$2"; }
pull_regctl() { regctl image copy --referrers "$ADDR/$1:$2" "ocidir://$3:$2"; }
pull_crane() { crane pull --insecure --format=oci "$ADDR/$1:$2" "$3"; }

# ---------------------------------------------------------------- checks
expect_eq() { # WHAT WANT GOT
	if [[ "$2" != "$3" ]]; then
		echo "$1: want $2, got $3"
		return 1
	fi
	echo "$1: $3"
}

sha_of() { sha256sum "$1" | awk '{print "sha256:" $1}'; }

# cmp_tree [--no-mode] WANT GOT: same paths, types, contents, symlink
# targets (and modes unless --no-mode).
cmp_tree() {
	local opt=()
	if [[ "$1" == --no-mode ]]; then
		opt=(--no-mode)
		shift
	fi
	local t
	t="$(mktemp -d "$W/cmp.XXXXXX")"
	py tree "${opt[@]}" "$1" >"$t/want"
	py tree "${opt[@]}" "$2" >"$t/got"
	if ! diff -u "$t/want" "$t/got"; then
		echo "tree $2 differs from $1 (- want, + got)"
		return 1
	fi
	echo "tree $2 matches $1 ($(wc -l <"$t/want") entries)"
}

chk_push() { "push_$1" "$2" "$3" "$4"; }

chk_reg_digest() { # REPO TAG WANT
	local got
	got="$(py reg-digest "$ADDR" "$1" "$2")"
	expect_eq "manifest digest of $ADDR/$1:$2" "$3" "$got"
}

chk_pullback() { # TOOL REPO TAG DEST WANT
	"pull_$1" "$2" "$3" "$4"
	local got
	if [[ "$1" == crane ]]; then got="$(py layout-digest "$4")"; else got="$(py layout-digest "$4" "$3")"; fi
	expect_eq "digest in $1's layout $4" "$5" "$got"
	"$OP" verify "$4"
	"$OP" ls "$4"
}

chk_crane_validate() { # REPO TAG WANT
	local ref="$ADDR/$1:$2" m why d size got
	m="$(mktemp "$W/manifest.XXXXXX")"
	crane manifest --insecure "$ref" >"$m"
	expect_eq "digest of crane manifest $ref" "$3" "$(sha_of "$m")"
	if why="$(py crane-full-validate <"$m")"; then
		crane validate --insecure --remote "$ref"
		return
	fi
	# Not a crane limitation we can test around: check what it can (config,
	# manifest, layer presence) and every blob's digest by hand.
	echo "full 'crane validate' does not apply: $why"
	crane validate --fast --insecure --remote "$ref"
	while read -r d size; do
		crane blob --insecure "$ADDR/$1@$d" >"$m.blob"
		expect_eq "crane blob $d" "$d" "$(sha_of "$m.blob")"
		expect_eq "size of $d" "$size" "$(stat -c %s "$m.blob")"
	done < <(py blobs <"$m")
}

chk_regctl_get() { # REPO TAG WANT
	local m
	m="$(mktemp "$W/manifest.XXXXXX")"
	regctl manifest get "$ADDR/$1:$2" --format raw-body >"$m"
	expect_eq "digest of regctl manifest get $ADDR/$1:$2" "$3" "$(sha_of "$m")"
}

chk_oras_pull() { # ART REPO TAG OUT
	local art="$1" out="$4" layer
	oras pull --plain-http "$ADDR/$2:$3" -o "$out"
	case "$art" in
	dirgz | helmdir) cmp_tree "$FX/expect/$art" "$out" ;;
	dirzst)
		# oras-go unpacks only gzip directory layers, and oci-pack puts the
		# unpack annotations only on those: oras writes the .tar.zst blob
		# itself under the title. It must be the layer, byte for byte.
		layer="$(py reg-manifest "$ADDR" "$2" "$3" | py blobs | sed -n 2p | cut -d' ' -f1)"
		[[ -f "$out/d" ]] || {
			echo "oras pull did not write $out/d"
			return 1
		}
		expect_eq "oras pull $out/d (the zstd layer)" "$layer" "$(sha_of "$out/d")"
		mkdir "$out.unpacked"
		zstd -dc "$out/d" | tar -x -C "$out.unpacked"
		cmp_tree "$FX/expect/dirgz" "$out.unpacked"
		;;
	nofiles)
		if [[ -d "$out" ]] && [[ -n "$(find "$out" -mindepth 1 -print -quit)" ]]; then
			echo "oras pull of an artifact without files wrote:"
			find "$out" -mindepth 1
			return 1
		fi
		echo "oras pull wrote nothing (created $out: $([[ -d "$out" ]] && echo yes || echo no))"
		;;
	*) cmp_tree --no-mode "$FX/expect/$art" "$out" ;;
	esac
}

chk_helm() { # ART REPO TAG OUT
	mkdir -p "$4"
	helm pull "oci://$ADDR/$2" --version "$3" --plain-http -d "$4"
	helm template interop "$4/mychart-0.1.0.tgz" >"$4/rendered.yaml"
	cat "$4/rendered.yaml"
	grep -q 'greeting: "hello"' "$4/rendered.yaml"
	if [[ "$1" == helmtgz ]]; then
		cmp "$FX/pkg/mychart-0.1.0.tgz" "$4/mychart-0.1.0.tgz"
		echo "helm pull returned the packaged chart byte-identical"
	fi
}

modctl_() { modctl --storage-dir "$W/modctl/store" --log-dir "$W/modctl/log" --no-progress "$@"; }

chk_modctl_remote() { # REPO TAG OUT
	modctl_ pull --plain-http --extract-from-remote --extract-dir "$3" "$ADDR/$1:$2"
	cmp_tree --no-mode "$FX/model" "$3"
}

chk_modctl_store() { # REPO TAG OUT
	modctl_ pull --plain-http "$ADDR/$1:$2"
	modctl_ extract "$ADDR/$1:$2" --output "$3"
	cmp_tree --no-mode "$FX/model" "$3"
}

chk_discover() { # REPO TAG: oras discover lists the SPDX referrer
	local want
	want="$(cat "$FX/sbom.digest")"
	oras discover --plain-http --format json "$ADDR/$1:$2" | tee "$W/discover.json"
	grep -q "$want" "$W/discover.json" || {
		echo "oras discover $ADDR/$1:$2 does not list the referrer $want"
		return 1
	}
}

chk_op_referrers() { # LAYOUT:REF: oci-pack referrers lists the SPDX referrer
	local want
	want="$(cat "$FX/sbom.digest")"
	"$OP" referrers "$1" | tee "$W/referrers.txt"
	grep -q "$want" "$W/referrers.txt" || {
		echo "oci-pack referrers $1 does not list $want"
		return 1
	}
}

chk_umoci() { # ART
	umoci ls --layout "$SRC" | tee "$W/umoci-ls.txt"
	grep -qx "$1" "$W/umoci-ls.txt"
	umoci stat --image "$SRC:$1"
}

chk_archive() { # ART WANT
	local a="$W/archive/$1.tar"
	mkdir -p "$W/archive"
	"$OP" export "$SRC:$1" -o "$a"
	sk copy --dest-tls-verify=false "oci-archive:$a:$1" "docker://$ADDR/archive-skopeo/$1:v1"
	chk_reg_digest "archive-skopeo/$1" v1 "$2"
	oras cp --from-oci-layout "$a:$1" --to-plain-http "$ADDR/archive-oras/$1:v1"
	chk_reg_digest "archive-oras/$1" v1 "$2"
}

# ---------------------------------------------------------------- driver
# pack_row ART: the "pack" cell of row ART: oci-pack packs it into SRC.
pack_row() {
	cell oci-pack→tools "$1" pack
	check "oci-pack pack" pack_art "$SRC" "$FX" "$1"
	check "oci-pack verify" "$OP" verify "$SRC" "$1"
	check "oci-pack inspect" "$OP" inspect "$SRC:$1"
}

# run_to_tools ART: the other cells of row ART (after pack_row).
run_to_tools() {
	local art="$1" want p q repo tag dest
	local dir=oci-pack→tools
	[[ "${CELL_STATUS[$dir|$art|pack]}" == PASS ]] || return 0
	want="$(py layout-digest "$SRC" "$art")"

	for p in "${PUSHERS[@]}"; do
		cell "$dir" "$art" "$p"
		q="$(pullback_of "$p")"
		if ! have "$p"; then
			missing "$p not installed"
			continue
		fi
		read -r repo tag <<<"$(target "$p" "$art")"
		check "push by $p" chk_push "$p" "$art" "$repo" "$tag"
		check "registry digest" chk_reg_digest "$repo" "$tag" "$want"
		cell_ok || continue
		dest="$W/back/$p-$art"
		if need "$q"; then
			check "pull back by $q" chk_pullback "$q" "$repo" "$tag" "$dest" "$want"
		fi
		if need crane; then check "crane validate" chk_crane_validate "$repo" "$tag" "$want"; fi
		if need regctl; then check "regctl manifest get" chk_regctl_get "$repo" "$tag" "$want"; fi
		if need oras; then check "oras pull files" chk_oras_pull "$art" "$repo" "$tag" "$W/oras-pull/$p-$art"; fi
		case "$art" in
		helm*) if need helm; then check "helm pull+template" chk_helm "$art" "$repo" "$tag" "$W/helm-pull/$p-$art"; fi ;;
		modelpack)
			if need modctl; then
				check "modctl pull --extract-from-remote" chk_modctl_remote "$repo" "$tag" "$W/modctl-out/$p-remote"
				[[ "$p" != oras ]] || check "modctl pull+extract" chk_modctl_store "$repo" "$tag" "$W/modctl-out/$p-store"
			fi
			;;
		withref)
			# skopeo and crane copy the subject only; oras cp -r and regctl
			# --referrers must bring the referrer along, both ways.
			case "$p" in
			oras | regctl)
				if need oras; then check "referrer arrived (oras discover)" chk_discover "$repo" "$tag"; fi
				case "$q" in
				oras | regctl) check "referrer in $q's layout (oci-pack referrers)" chk_op_referrers "$dest:$tag" ;;
				esac
				;;
			*) note "$p copies no referrers (only the subject)" ;;
			esac
			;;
		esac
	done

	cell "$dir" "$art" umoci
	if need umoci; then check "umoci ls+stat" chk_umoci "$art"; fi

	cell "$dir" "$art" archive
	if ! has_cmd export; then
		missing "oci-pack export does not exist yet"
	elif have skopeo && have oras; then
		check "export → skopeo oci-archive, oras tar layout" chk_archive "$art" "$want"
	else
		missing "skopeo or oras not installed"
	fi
}

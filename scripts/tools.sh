#!/usr/bin/env bash
# scripts/tools.sh — idempotent installer for oci-pack's interop/test tools.
#
# Usage:
#   scripts/tools.sh [TOOL...]        install TOOLs (default: all default tools)
#   scripts/tools.sh --check TOOL...  exit 0 iff every TOOL is present (no install)
#   scripts/tools.sh --list           print "TOOL SOURCE VERSION" for every tool
#   scripts/tools.sh --help
#
# Contract:
#   * Go tools (oras crane regctl umoci registry helm cosign cosign2 conformance, optional
#     modctl) are built from a pinned tools module (go.mod/go.sum/tools.go):
#     scripts/tools, or for cosign (v3) scripts/tools/cosign and for cosign2
#     (cosign v2, installed as `cosign2`) scripts/tools/cosign2, with
#     CGO_ENABLED=0, -trimpath, GOFLAGS=-mod=mod, in a temporary copy of that
#     module, so the repository's files are never rewritten. Binaries go to
#       BIN=${OCI_PACK_TOOLS:-$HOME/.cache/oci-pack-tools}/bin
#     (outside the repo) with a stamp BIN/.TOOL.version = "MODULE@VERSION".
#     A tool is rebuilt only when its binary or stamp is missing or the stamp
#     differs from the version pinned in scripts/tools/go.mod.
#   * Debian tools (skopeo strace zstd pigz time python3) are installed with
#     apt-get install -y --no-install-recommends only when missing;
#     `apt-get update` runs at most once per run, and only if something is
#     missing. sudo is used only when not root and sudo exists.
#   * stdout: exactly one line, the BIN path, printed last (also on failure), so
#       PATH="$(scripts/tools.sh):$PATH"
#     works. Everything else goes to stderr.
#   * Failure: each tool that cannot be installed is reported on stderr with the
#     reason. With CI=true the script then exits 1; otherwise it warns and
#     exits 0 so a developer without network still gets the tools it could get.
#   * --check uses the lookup callers get: BIN first, then $PATH
#     (/usr/bin/time for "time").
#   * Concurrent runs are serialised with flock on $OCI_PACK_TOOLS/.lock.
#   * Default tools: skopeo oras crane regctl umoci registry helm cosign cosign2
#     conformance strace zstd pigz time python3. modctl is built only when named explicitly.
#   * mkfs.xfs (Debian's xfsprogs, for the zero-copy tests and bench on a
#     loop-mounted XFS) is installed only when named.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOLS_MOD="$SCRIPT_DIR/tools"
CACHE_DIR="${OCI_PACK_TOOLS:-$HOME/.cache/oci-pack-tools}"
BIN="$CACHE_DIR/bin"

DEFAULT_TOOLS=(skopeo oras crane regctl umoci registry helm cosign cosign2 conformance strace zstd pigz time python3)
GO_TOOLS=(oras crane regctl umoci registry helm cosign cosign2 modctl conformance)
APT_TOOLS=(skopeo strace zstd pigz time python3)
APT_TOOLS+=(mkfs.xfs) # only when named: see above

log() { printf 'tools.sh: %s\n' "$*" >&2; }

# go_module TOOL -> module path whose version is pinned in scripts/tools/go.mod
go_module() {
	case "$1" in
	oras) echo oras.land/oras ;;
	crane) echo github.com/google/go-containerregistry ;;
	regctl) echo github.com/regclient/regclient ;;
	umoci) echo github.com/opencontainers/umoci ;;
	registry) echo github.com/distribution/distribution/v3 ;;
	helm) echo helm.sh/helm/v3 ;;
	modctl) echo github.com/modelpack/modctl ;;
	cosign) echo github.com/sigstore/cosign/v3 ;;
	cosign2) echo github.com/sigstore/cosign/v2 ;;
	conformance) echo github.com/opencontainers/distribution-spec/conformance ;;
	*) return 1 ;;
	esac
}

# go_moddir TOOL -> the tools module that pins it (cosign's dependency graphs
# pin versions the other tools must not get, so each has a module of its own)
go_moddir() {
	case "$1" in
	cosign) echo "$TOOLS_MOD/cosign" ;;
	cosign2) echo "$TOOLS_MOD/cosign2" ;;
	*) echo "$TOOLS_MOD" ;;
	esac
}

# go_package TOOL -> main package to build
go_package() {
	case "$1" in
	oras) echo oras.land/oras/cmd/oras ;;
	crane) echo github.com/google/go-containerregistry/cmd/crane ;;
	regctl) echo github.com/regclient/regclient/cmd/regctl ;;
	umoci) echo github.com/opencontainers/umoci/cmd/umoci ;;
	registry) echo github.com/distribution/distribution/v3/cmd/registry ;;
	helm) echo helm.sh/helm/v3/cmd/helm ;;
	modctl) echo github.com/modelpack/modctl ;;
	cosign) echo github.com/sigstore/cosign/v3/cmd/cosign ;;
	cosign2) echo github.com/sigstore/cosign/v2/cmd/cosign ;;
	conformance) echo github.com/opencontainers/distribution-spec/conformance ;;
	*) return 1 ;;
	esac
}

# go_ldflags TOOL VERSION -> -X flags so `TOOL version` reports the pinned version
go_ldflags() {
	case "$1" in
	registry) echo "-X github.com/distribution/distribution/v3/version.version=$2" ;;
	helm) echo "-X helm.sh/helm/v3/internal/version.version=$2" ;;
	modctl) echo "-X github.com/modelpack/modctl/pkg/version.GitVersion=$2" ;;
	*) echo "" ;;
	esac
}

# apt_package TOOL -> Debian package providing it
apt_package() {
	case "$1" in
	skopeo | strace | zstd | pigz | time | python3) echo "$1" ;;
	mkfs.xfs) echo xfsprogs ;;
	*) return 1 ;;
	esac
}

is_in() {
	local x="$1"
	shift
	local y
	for y in "$@"; do [[ "$x" == "$y" ]] && return 0; done
	return 1
}

# pinned_version MODULE [MODDIR] -> version from MODDIR/go.mod (default
# scripts/tools; require lines)
pinned_version() {
	awk -v m="$1" '
		$1 == "require" && $2 == m { print $3; exit }
		$1 == m && $2 ~ /^v/ { print $2; exit }
	' "${2:-$TOOLS_MOD}/go.mod"
}

# tool_present TOOL: the same lookup callers get with PATH="$BIN:$PATH".
tool_present() {
	if [[ "$1" == time ]]; then
		[[ -x /usr/bin/time ]]
		return
	fi
	if [[ "$1" == mkfs.xfs ]] && [[ -x /usr/sbin/mkfs.xfs || -x /sbin/mkfs.xfs ]]; then
		return 0
	fi
	PATH="$BIN:$PATH" command -v "$1" >/dev/null 2>&1
}

usage() {
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
}

# ---------------------------------------------------------------- arguments
mode=install
tools=()
while (($#)); do
	case "$1" in
	--check) mode=check ;;
	--list) mode=list ;;
	-h | --help)
		usage
		exit 0
		;;
	-*)
		log "unknown option: $1"
		usage
		exit 2
		;;
	*) tools+=("$1") ;;
	esac
	shift
done

for t in "${tools[@]}"; do
	if ! is_in "$t" "${GO_TOOLS[@]}" "${APT_TOOLS[@]}"; then
		log "unknown tool: $t (known: ${GO_TOOLS[*]} ${APT_TOOLS[*]})"
		exit 2
	fi
done

case "$mode" in
check)
	if ((${#tools[@]} == 0)); then
		log "--check needs at least one TOOL"
		exit 2
	fi
	for t in "${tools[@]}"; do
		tool_present "$t" || exit 1
	done
	exit 0
	;;
list)
	for t in "${GO_TOOLS[@]}"; do
		m="$(go_module "$t")"
		printf '%s go %s@%s\n' "$t" "$m" "$(pinned_version "$m" "$(go_moddir "$t")")"
	done
	for t in "${APT_TOOLS[@]}"; do
		printf '%s apt %s\n' "$t" "$(apt_package "$t")"
	done
	exit 0
	;;
esac

if ((${#tools[@]} == 0)); then
	tools=("${DEFAULT_TOOLS[@]}")
fi

mkdir -p "$BIN"
if command -v flock >/dev/null 2>&1; then
	exec 9>"$CACHE_DIR/.lock"
	flock 9
fi

failures=()
fail() { # fail TOOL REASON...
	local t="$1"
	shift
	log "ERROR: cannot install $t: $*"
	failures+=("$t")
}

# ---------------------------------------------------------------- apt tools
apt_missing=()
for t in "${tools[@]}"; do
	is_in "$t" "${APT_TOOLS[@]}" || continue
	tool_present "$t" || apt_missing+=("$t")
done

if ((${#apt_missing[@]})); then
	sudo_cmd=()
	apt_ok=1
	if ((EUID != 0)); then
		if command -v sudo >/dev/null 2>&1; then
			sudo_cmd=(sudo)
		else
			apt_ok=0
			for t in "${apt_missing[@]}"; do
				fail "$t" "not root and sudo is not available (apt-get install $(apt_package "$t"))"
			done
		fi
	fi
	if ((apt_ok)) && ! command -v apt-get >/dev/null 2>&1; then
		apt_ok=0
		for t in "${apt_missing[@]}"; do
			fail "$t" "apt-get not found; install package '$(apt_package "$t")' by hand"
		done
	fi
	if ((apt_ok)); then
		pkgs=()
		for t in "${apt_missing[@]}"; do pkgs+=("$(apt_package "$t")"); done
		log "apt: installing ${pkgs[*]}"
		export DEBIAN_FRONTEND=noninteractive
		if ! "${sudo_cmd[@]}" apt-get update -qq >&2; then
			log "WARNING: apt-get update failed; trying install with existing lists"
		fi
		if ! "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2; then
			log "WARNING: apt-get install of all of '${pkgs[*]}' failed; retrying one by one"
			for p in "${pkgs[@]}"; do
				"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "$p" >&2 || true
			done
		fi
		for t in "${apt_missing[@]}"; do
			if ! tool_present "$t"; then
				fail "$t" "apt-get install $(apt_package "$t") did not provide it"
			fi
		done
	fi
fi

if is_in skopeo "${tools[@]}" && ! is_in skopeo "${failures[@]+"${failures[@]}"}"; then
	if ! out="$(skopeo --version 2>&1)"; then
		fail skopeo "'skopeo --version' failed: $out"
	fi
fi

# ---------------------------------------------------------------- Go tools
go_todo=()
for t in "${tools[@]}"; do
	is_in "$t" "${GO_TOOLS[@]}" || continue
	m="$(go_module "$t")"
	v="$(pinned_version "$m" "$(go_moddir "$t")")"
	if [[ -z "$v" ]]; then
		fail "$t" "module $m is not pinned in $(go_moddir "$t")/go.mod"
		continue
	fi
	stamp="$BIN/.$t.version"
	if [[ -x "$BIN/$t" && -f "$stamp" && "$(cat "$stamp")" == "$m@$v" ]]; then
		continue
	fi
	go_todo+=("$t")
done

if ((${#go_todo[@]})); then
	gobin="$(command -v go || true)"
	if [[ -z "$gobin" && -x /usr/local/go/bin/go ]]; then
		gobin=/usr/local/go/bin/go
	fi
	if [[ -z "$gobin" ]]; then
		for t in "${go_todo[@]}"; do fail "$t" "no Go toolchain found (go not on PATH)"; done
	else
		work="$(mktemp -d "${TMPDIR:-/tmp}/oci-pack-tools.XXXXXX")"
		trap 'rm -rf "$work"' EXIT
		# One copy per tools module, so the repository's files are never
		# rewritten.
		modcopy() { # modcopy TOOL -> the work copy of its tools module
			local src dst
			src="$(go_moddir "$1")"
			dst="$work/mod${src#"$TOOLS_MOD"}"
			if [[ ! -f "$dst/go.mod" ]]; then
				mkdir -p "$dst"
				cp "$src/go.mod" "$src/go.sum" "$src/tools.go" "$dst/"
			fi
			printf '%s\n' "$dst"
		}
		export CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off
		# modctl's versions are missing from the checksum database as proxied
		# here; its hash is pinned in scripts/tools/go.sum instead.
		export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/modelpack/modctl"
		for t in "${go_todo[@]}"; do
			m="$(go_module "$t")"
			mod="$(modcopy "$t")"
			v="$(pinned_version "$m" "$mod")"
			log "go: building $t from $m@$v"
			start=$SECONDS
			# The distribution-spec conformance suite is a test binary (go test -c).
			gocmd=(build -trimpath -ldflags "-s -w $(go_ldflags "$t" "$v")")
			[[ "$t" != conformance ]] || gocmd=(test -c -trimpath)
			if (cd "$mod" && "$gobin" "${gocmd[@]}" -o "$work/$t" "$(go_package "$t")") >"$work/$t.log" 2>&1; then
				mv -f "$work/$t" "$BIN/$t"
				printf '%s@%s\n' "$m" "$v" >"$BIN/.$t.version"
				log "go: built $t in $((SECONDS - start))s"
			else
				sed 's/^/    /' "$work/$t.log" | tail -n 20 >&2
				fail "$t" "go build $(go_package "$t")@$v failed (network/module proxy or build error; log above)"
			fi
		done
		for t in "${go_todo[@]}"; do
			src="$(go_moddir "$t")"
			if ! cmp -s "$work/mod${src#"$TOOLS_MOD"}/go.sum" "$src/go.sum"; then
				log "WARNING: $src/go.sum is incomplete (the build of $t added entries);" \
					"run 'cd ${src#"$SCRIPT_DIR/"} && GOFLAGS=-mod=mod go mod tidy' and commit it"
			fi
		done
	fi
fi

# ---------------------------------------------------------------- result
status=0
if ((${#failures[@]})); then
	if [[ "${CI:-}" == true ]]; then
		log "FAILED (CI=true): could not install: ${failures[*]}"
		status=1
	else
		log "WARNING: could not install: ${failures[*]} (continuing; set CI=true to make this fatal)"
	fi
fi
printf '%s\n' "$BIN"
exit "$status"

# scripts/interop/parity.sh — parity volumes and resumed imports against
# the real tools (sourced by scripts/interop.sh, which calls run_parity).
# shellcheck shell=bash
#
#   export --split-size --parity 2: the sidecar lists data and parity
#     volumes and `sha256sum --strict -c` passes; `cat FILE.0* | tar -x`
#     gives a layout oci-pack verifies and skopeo reads (oci:DIR:TAG);
#     skopeo reads the joined volumes as an oci-archive.
#   two data volumes deleted: import rebuilds them (the layout verifies),
#     `oci-pack repair` restores them byte-identical (sha256sum -c passes
#     again); three losses: import and repair exit 3.
#   import killed with SIGKILL part-way: the re-run resumes ("resuming at").
#
# Needs: OP, W, check/cell/need/missing from interop.sh and lib.sh.

# parity_sidecar DIR: sha256sum -c accepts DIR/m.tar.sha256, which lists
# both parity volumes.
parity_sidecar() {
	(cd "$1" && sha256sum --strict -c m.tar.sha256)
	[[ "$(grep -c '  m\.tar\.par[01]$' "$1/m.tar.sha256")" == 2 ]]
}

# parity_untar DIR OUT: the data volumes, concatenated, are a tar of a
# layout that oci-pack verifies.
parity_untar() {
	mkdir -p "$2"
	cat "$1"/m.tar.0* | tar -x -C "$2"
	"$OP" verify "$2"
}

# parity_kill_resume ARCHIVE LAYOUT: kill an import once it has read half
# the archive, then the re-run resumes.
parity_kill_resume() {
	local size pid r out killed=0
	size="$(cat "${1%.000}".0* | wc -c)"
	"$OP" import "$1" "$2" --no-progress &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		r="$(awk '/^rchar/ {print $2}' "/proc/$pid/io" 2>/dev/null || true)"
		if [[ -n "$r" ]] && ((r > size / 2)); then
			kill -KILL "$pid" && killed=1
			break
		fi
	done
	wait "$pid" || true
	out="$("$OP" import "$1" "$2" --no-progress 2>&1)"
	echo "$out (killed: $killed)"
	"$OP" verify "$2"
	((killed == 0)) || grep -q 'resuming at ' <<<"$out"
}

run_parity() {
	local P="$W/parity" i
	mkdir -p "$P/model" "$P/stick"
	for i in 1 2 3; do head -c $((700000 * i)) /dev/urandom >"$P/model/w$i.bin"; done

	cell parity export oci-pack
	check pack "$OP" pack "$P/L:v1" "$P/model/w1.bin" "$P/model/w2.bin" "$P/model/w3.bin" --artifact-type application/vnd.oci-pack.test.v1
	check "export --parity 2" "$OP" export "$P/L:v1" -o "$P/stick/m.tar" --split-size 256KiB --parity 2
	need sha256sum && check "sha256sum -c lists data and parity volumes" parity_sidecar "$P/stick"
	need tar && check "cat FILE.0* | tar -x" parity_untar "$P/stick" "$P/untar"
	cell parity export skopeo
	if need skopeo; then
		check "skopeo reads the untarred layout" sk copy "oci:$P/untar:v1" "oci:$P/sk:v1"
		check "skopeo reads the joined volumes" sh -c "cat '$P'/stick/m.tar.0* >'$P/joined.tar' && skopeo --policy '$W/policy.json' copy 'oci-archive:$P/joined.tar:v1' 'oci:$P/sk2:v1'"
	fi

	cell parity rebuild oci-pack
	cp -a "$P/stick" "$P/orig"
	rm -f "$P/stick/m.tar.001" "$P/stick/m.tar.005"
	check "import rebuilds two deleted volumes" "$OP" import "$P/stick/m.tar.000" "$P/S"
	check "verify" "$OP" verify "$P/S"
	check repair "$OP" repair "$P/stick/m.tar.000"
	check "repaired volumes byte-identical" cmp "$P/stick/m.tar.005" "$P/orig/m.tar.005"
	need sha256sum && check "sha256sum -c after repair" parity_sidecar "$P/stick"
	rm -f "$P/stick/m.tar.002" "$P/stick/m.tar.par0"
	printf 'X' | dd of="$P/stick/m.tar.003" bs=1 seek=7 conv=notrunc status=none
	check "three losses: import exits 3" bash -c '"$0" import "$1" "$2"; (($? == 3))' "$OP" "$P/stick/m.tar.000" "$P/T"
	check "three losses: repair exits 3" bash -c '"$0" repair "$1"; (($? == 3))' "$OP" "$P/stick/m.tar.000"

	cell parity resume oci-pack
	head -c 64000000 /dev/urandom >"$P/model/big.bin"
	check "pack a bigger model" "$OP" pack "$P/B:v1" "$P/model/big.bin" "$P/model/w3.bin" --artifact-type application/vnd.oci-pack.test.v1
	check "export to volumes" "$OP" export "$P/B:v1" -o "$P/b.tar" --split-size 16MiB
	check "import killed at half, then resumed" parity_kill_resume "$P/b.tar.000" "$P/R"
}

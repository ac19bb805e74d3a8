#!/usr/bin/env bash
# The main job end to end on generated model-like data: pack a model
# directory, export it as split volumes for a FAT32 stick, import it at the
# "offline site", extract it, and check the files came back byte-identical.
# Usage: scripts/demo.sh [WORKDIR]   (default: a fresh temp dir, kept)
set -euo pipefail
cd "$(dirname "$0")/.."
OCI_PACK="${OCI_PACK_BIN:-$PWD/bin/oci-pack}"
work="${1:-$(mktemp -d "${TMPDIR:-/tmp}/oci-pack-demo.XXXXXX")}"
mkdir -p "$work"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
op() { step "$OCI_PACK" "$@"; }

echo "demo directory: $work"
model="$work/tiny-llama"
rm -rf "$model" "$work/models" "$work/offline" "$work/stick" "$work/restored"
mkdir -p "$model" "$work/stick"
gen="$work/gendata"
go build -o "$gen" ./scripts/bench/gendata
"$gen" shards -dir "$model" -count 3 -size 4MiB
"$gen" tokenizer -file "$model/tokenizer.json" -size 1MiB
"$gen" config -file "$model/config.json"
printf '# tiny-llama\nA generated stand-in for a bf16 checkpoint.\n' > "$model/README.md"
ls -l "$model"

echo; echo "== connected site: pack into the layout 'models'"
op pack "$work/models:tiny-llama" "$model" --preset modelpack
op ls "$work/models"
op inspect "$work/models:tiny-llama"
op verify "$work/models"

echo; echo "== carry: export as 5 MiB volumes with a sha256sum -c sidecar"
op export "$work/models:tiny-llama" -o "$work/stick/tiny-llama.tar" --split-size 5MiB
ls -l "$work/stick"
step sh -c "cd '$work/stick' && sha256sum -c tiny-llama.tar.sha256"

echo; echo "== offline site: import (verifies every byte), then what the site holds"
op import "$work/stick/tiny-llama.tar.000" "$work/offline"
op receipt "$work/offline"
op verify "$work/offline"

echo; echo "== use: extract the files back and compare"
op extract "$work/offline:tiny-llama" -o "$work/restored"
step diff -r "$model" "$work/restored"
echo; echo "demo OK: every file came back byte-identical ($work)"

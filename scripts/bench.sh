#!/usr/bin/env bash
# scripts/bench.sh — oci-pack against the physical floor and its peers, in one
# run on this machine; writes BENCHMARKS.md (issue 6; `make bench`).
#
# Usage:
#   scripts/bench.sh [--quick] [--size 4GiB] [--runs 3] [--out FILE]
#                    [--scratch DIR] [--rev REV] [--only GROUPS] [--keep]
#
#   --quick     CI smoke test: ~256 MiB of shards, 64 MiB text/random, a
#               small synthetic layout, 2 runs; report to SCRATCH/BENCHMARKS.quick.md
#               unless --out is given. Checks that the harness works, not numbers.
#   --size      total bytes of safetensors shards (default 4GiB; 1 GiB shards)
#   --runs      runs per measurement (default 3; medians are reported)
#   --out       report file (default: BENCHMARKS.md at the repository root)
#   --scratch   where inputs and outputs go (default ${TMPDIR:-/var/tmp}/oci-pack-bench,
#               or oci-pack-bench-quick with --quick, so a CI smoke test never
#               replaces a full run's inputs and results);
#               must be outside the repository; generated inputs are reused
#               when their parameters match
#   --rev       build oci-pack from this git revision (git archive) instead
#               of the working tree
#   --only      comma-separated groups to run: floor,pack,zerocopy,text,small,
#               random,transfer,repack,big,cold (default: all)
#   --keep      keep outputs in SCRATCH/work (inputs are always kept)
#   --report-only  measure nothing: rewrite the report from the last run's
#               SCRATCH/results.tsv (after editing report.sh or NOTES.md)
#
# Every command runs warm (its inputs read with cat right before it; these
# machines evict page cache idle for ~30 s); "cold" runs drop the page cache
# first where that is permitted. Each oci-pack command also runs once more
# under strace, untimed, to count the bytes it reads from its inputs (the
# read ratio). The zero-copy group needs root, a loop device and mkfs.xfs
# (scripts/tools.sh mkfs.xfs). Progress goes to stderr; the report is
# OUT, with a throughput chart beside it (OUT without .md, plus .png).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=bench/lib.sh
source "$REPO/scripts/bench/lib.sh"
# shellcheck source=bench/report.sh
source "$REPO/scripts/bench/report.sh"

QUICK=0 SIZE="" RUNS="" OUT="" SCRATCH="" REV="" ONLY="" KEEP=0 REPORT_ONLY=0
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; }
while (($#)); do
	case $1 in
	--quick) QUICK=1 ;;
	--size | --runs | --out | --scratch | --rev | --only)
		(($# >= 2)) || die "$1 needs a value"
		v=$2
		case $1 in
		--size) SIZE=$v ;; --runs) RUNS=$v ;; --out) OUT=$v ;;
		--scratch) SCRATCH=$v ;; --rev) REV=$v ;; --only) ONLY=$v ;;
		esac
		shift
		;;
	--keep) KEEP=1 ;;
	--report-only) REPORT_ONLY=1 KEEP=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage
		die "unknown argument: $1"
		;;
	esac
	shift
done

# bytes SIZE: "4GiB", "256MiB", "64M", "1000" → bytes.
bytes() {
	local s=$1 m=1
	case $s in
	*GiB | *G) m=$((1 << 30)) s=${s%GiB} s=${s%G} ;;
	*MiB | *M) m=$((1 << 20)) s=${s%MiB} s=${s%M} ;;
	*KiB | *K) m=$((1 << 10)) s=${s%KiB} s=${s%K} ;;
	esac
	[[ $s =~ ^[0-9]+$ ]] || die "bad size: $1"
	echo $((s * m))
}

if ((QUICK)); then
	SIZE=${SIZE:-256MiB} RUNS=${RUNS:-1}
	TEXT=$((64 << 20)) TEXT_FILE=$((16 << 20)) RAND=$((64 << 20)) SMALL=$((32 << 20))
	TOK=$((2 << 20)) TAGS=200 ORPHANS=100 SPLIT=64MiB CAP=120 LONG=30 SETTLE=0
else
	SIZE=${SIZE:-4GiB} RUNS=${RUNS:-3}
	TEXT=$((1 << 30)) TEXT_FILE=$((64 << 20)) RAND=$((1 << 30)) SMALL=$((256 << 20))
	TOK=$((8 << 20)) TAGS=10000 ORPHANS=1000 SPLIT=256MiB CAP=600 LONG=90 SETTLE=8
fi
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer"
TOTAL=$(bytes "$SIZE")
SHARD=$((1 << 30))
((TOTAL >= 2 * SHARD)) || SHARD=$((TOTAL / 2))
NSHARDS=$((TOTAL / SHARD))
((SHARD >= 1 << 20)) || die "--size too small (need ≥ 2 MiB)"

QSUFFIX=""
((QUICK)) && QSUFFIX=-quick
S=$(realpath -m "${SCRATCH:-${TMPDIR:-/var/tmp}/oci-pack-bench$QSUFFIX}")
[[ $S/ == "$REPO"/* ]] && die "scratch $S is inside the repository; use --scratch"
if ((QUICK)); then OUT=${OUT:-$S/BENCHMARKS.quick.md}; else OUT=${OUT:-$REPO/BENCHMARKS.md}; fi
D=$S/data W=$S/work LOGS=$S/logs RES=$S/results.tsv READS=$S/reads.tsv CHART_SPEC=$S/chart.tsv
PNG=${OUT%.md}.png
mkdir -p "$S/bin" "$S/tmp" "$D"
if ((REPORT_ONLY)); then
	[[ -s $RES && -f $S/meta.sh ]] || die "--report-only: no results of an earlier run in $S"
else
	rm -rf "$W" "$LOGS"
	mkdir -p "$W" "$LOGS"
	: >"$RES"
	: >"$READS"
fi
export S D W

group_on() { [[ -z $ONLY || ,$ONLY, == *,$1,* ]]; }

# ------------------------------------------------------------ disk space
need=$((TOTAL * 11 + TEXT * 3 + RAND * 2 + SMALL * 4 + (1 << 30)))
avail=$(($(df -B1 --output=avail "$S" | tail -n1)))
have_data=$(du -sb "$D" 2>/dev/null | cut -f1)
((REPORT_ONLY || avail + have_data >= need)) || die "scratch $S has $((avail >> 20)) MiB free; need about $((need >> 20)) MiB (use --scratch or --size)"

# ------------------------------------------------------------ tools
export PATH="$("$REPO/scripts/tools.sh" oras modctl skopeo zstd pigz time strace mkfs.xfs 2>>"$LOGS/tools.log" || true):$PATH:/usr/sbin:/sbin"
[[ -x /usr/bin/time ]] || die "GNU time (/usr/bin/time) is missing: scripts/tools.sh time"
command -v timeout >/dev/null || die "timeout (coreutils) is missing"

# ------------------------------------------------------------ build
log "building oci-pack${REV:+ at $REV} and the generators"
if [[ -n $REV ]]; then
	src=$S/src
	rm -rf "$src" && mkdir -p "$src"
	git -C "$REPO" archive "$REV" | tar -x -C "$src"
	COMMIT=$(git -C "$REPO" rev-parse --short "$REV")
else
	src=$REPO
	COMMIT=$(git -C "$REPO" rev-parse --short HEAD)
	if [[ -n $(git -C "$REPO" status --porcelain -- cmd cas layout pack compress go.mod go.sum) ]]; then
		COMMIT="$COMMIT+dirty (uncommitted changes in the working tree)"
	fi
fi
if ((REPORT_ONLY)) && [[ -x $S/bin/oci-pack ]]; then
	log "reusing the binaries of the last run in $S/bin"
else
	(cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$S/bin/oci-pack" ./cmd/oci-pack) || die "go build ./cmd/oci-pack failed"
	(cd "$REPO" && go build -o "$S/bin/" ./scripts/bench/gendata ./scripts/bench/genlayout ./scripts/bench/shafloor ./scripts/bench/chart) || die "building the generators failed"
fi
export B=$S/bin/oci-pack
GEN=$S/bin/gendata

has_cmd() { "$B" help "$1" >/dev/null 2>&1; }
has_flag() { "$B" help "$1" 2>&1 | grep -q -- "$2"; } # has_flag COMMAND --FLAG
export SHA=$S/bin/shafloor

# ------------------------------------------------------------ inputs
shard() { printf '%s/model/model-%05d-of-%05d.safetensors' "$D" "$(($1 + 1))" "$NSHARDS"; }
stamp="gendata shards=$NSHARDS×$SHARD text=$TEXT/$TEXT_FILE random=$RAND small=$SMALL tok=$TOK src=$(cat "$REPO"/scripts/bench/gendata/*.go | sha256sum | cut -c1-16)"
if ((!REPORT_ONLY)) && [[ $(cat "$D/.stamp" 2>/dev/null) != "$stamp" ]]; then
	log "generating inputs in $D"
	rm -rf "$D" && mkdir -p "$D"
	t0=$(date +%s.%N)
	"$GEN" shards -dir "$D/model" -count "$NSHARDS" -size "$SHARD" -seed 1
	"$GEN" config -file "$D/model/config.json"
	"$GEN" tokenizer -file "$D/model/tokenizer.json" -size "$TOK" -seed 1
	"$GEN" shards -dir "$D/small" -count 2 -size "$SMALL" -seed 2
	"$GEN" text -dir "$D/text" -size "$TEXT" -file-size "$TEXT_FILE" -seed 3
	"$GEN" random -file "$D/random/random.bin" -size "$RAND" -seed 4
	t1=$(date +%s.%N)
	GEN_BYTES=$(du -sb "$D" | cut -f1)
	GEN_RATE=$(awk -v b="$GEN_BYTES" -v a="$t0" -v z="$t1" 'BEGIN{printf "%.0f", b/(z-a)/1048576}')
	echo "$stamp" >"$D/.stamp"
	echo "$GEN_RATE" >"$D/.rate"
	log "generated $((GEN_BYTES >> 20)) MiB at $GEN_RATE MiB/s"
else
	log "reusing inputs in $D"
fi
GEN_RATE=$(cat "$D/.rate" 2>/dev/null || echo "?")
K=$((NSHARDS - 1)) # the shard the re-pack changes
hum() { awk -v b="$1" 'BEGIN{ if (b >= 2^30) printf "%g GiB", b/2^30; else printf "%g MiB", b/2^20 }'; }
SMALL_H=$(hum "$SMALL") RAND_H=$(hum "$RAND") TEXT_H=$(hum "$TEXT") SHARD_H=$(hum "$SHARD") TOTAL_H=$(hum "$TOTAL")

# ------------------------------------------------------------ measurements
MODEL_WARM='"$D/model"'
AT=application/vnd.bench.model.v1
S0="\"$(shard 0 | sed "s|^$D|\$D|")\"" S1="\"$(shard 1 | sed "s|^$D|\$D|")\"" SK="\"$(shard $K | sed "s|^$D|\$D|")\""

# The hashing floor is Go's crypto/sha256 (scripts/bench/shafloor), which
# uses the CPU's SHA extensions where present, as oci-pack does; coreutils
# sha256sum (f_sha1) does not, and is shown for comparison only.
def f_cat "cat of the shards" -w "$MODEL_WARM" -- 'cat "$D"/model/*.safetensors >/dev/null'
def f_sha1 "sha256sum (coreutils, no SHA extensions) of one shard" -w "$S0" -- "sha256sum $S0 >/dev/null"
def f_go1 "SHA-256 (crypto/sha256) of one shard" -w "$S0" -- "\"\$SHA\" -j 1 $S0 >/dev/null"
def f_sha2f "SHA-256 of two shards in parallel" -w "$S0 $S1" -- "\"\$SHA\" -j 2 $S0 $S1 >/dev/null"
def f_sha2w "SHA-256 of all shards, two-way parallel" -w "$MODEL_WARM" -- '"$SHA" -j 2 "$D"/model/*.safetensors >/dev/null'
def f_cp "cp -r of the model dir ($TOTAL_H) + sync" -w "$MODEL_WARM" -s 'rm -rf "$W/cp"' -c 'rm -rf "$W/cp"' -- 'cp -r "$D/model" "$W/cp" && sync'
def f_zmodel "zstd -3 -T0 of the shards (ratio)" -r 1 -w "$MODEL_WARM" -o '"$W/model.zst"' -c 'rm -f "$W/model.zst"' -- 'zstd -3 -T0 -q -c "$D"/model/*.safetensors >"$W/model.zst"'
def f_ztext "zstd -3 -T0 of the $TEXT_H text + sync" -w '"$D/text"' -o '"$W/text.zst"' -c 'rm -f "$W/text.zst"' -- 'zstd -3 -T0 -q -c "$D"/text/*/* >"$W/text.zst" && sync'
def f_pigz "pigz -6 of the $TEXT_H text + sync" -w '"$D/text"' -o '"$W/text.gz"' -c 'rm -f "$W/text.gz"' -- 'pigz -6 -c "$D"/text/*/* >"$W/text.gz" && sync'

# Every row of a series that writes a copy of the model removes it after
# its run (-c): the next row then starts with the same free memory. A
# row that ran while another's 4 GiB output was still cached spent 2-3 x
# the system time allocating pages (measured: p_mp after a p_raw that
# kept $W/Lm, 7.7 s against 5.9 s; the same command after an rm, at par).
# ensure_packed re-creates $W/Lm for the transfer and re-pack groups.
def p_raw "oci-pack pack, $NSHARDS × $SHARD_H shards raw (fresh layout)" -w "$MODEL_WARM" -i '"$D/model"' -s 'rm -rf "$W/Lm"' -c 'rm -rf "$W/Lm"' -- "\"\$B\" pack \"\$W/Lm:v1\" \"\$D\"/model/* --artifact-type $AT -q"
def p_mp "oci-pack pack --preset modelpack of the model dir (fresh layout)" -w "$MODEL_WARM" -i '"$D/model"' -s 'rm -rf "$W/Lp"' -c 'rm -rf "$W/Lp"' -- '"$B" pack "$W/Lp:v1" "$D/model" --preset modelpack -q'
if command -v oras >/dev/null; then
	def x_oras "oras push --oci-layout (fresh layout)" -w "$MODEL_WARM" -s 'rm -rf "$W/Lo"' -c 'rm -rf "$W/Lo"' -- "cd \"\$D/model\" && oras push --oci-layout \"\$W/Lo:v1\" --artifact-type $AT * >/dev/null"
else na x_oras "oras push --oci-layout" "oras not installed (scripts/tools.sh oras failed; see $LOGS/tools.log)"; fi
# modctl builds ModelPack artifacts into its own local store (fsynced);
# its Modelfile is generated once, untimed.
MODCTL_NOTE=""
if command -v modctl >/dev/null && mkdir -p "$S/modctl" && modctl --storage-dir "$S/modctl/st" --log-dir "$S/modctl/log" modelfile generate -n bench -O "$S/modctl" --overwrite "$D/model" >>"$LOGS/modctl.log" 2>&1; then
	def x_modctl "modctl build --raw of the model dir (its local store, fresh)" -w "$MODEL_WARM" -s 'rm -rf "$W/mc"' -c 'rm -rf "$W/mc"' -- 'cd "$D/model" && modctl --storage-dir "$W/mc" --log-dir "$W/mc/log" --no-progress build --raw --no-creation-time -f "$S/modctl/Modelfile" -t localhost/bench/model:v1 . >/dev/null'
else na x_modctl "modctl build --raw" "modctl not installed or its Modelfile could not be generated (scripts/tools.sh modctl; see $LOGS/tools.log, $LOGS/modctl.log)"; fi

# Zero-copy: the shards and the layout on one XFS file system with
# reflink (a loop-mounted image in the scratch dir), where pack clones
# each file after hashing it. The copies are made once, untimed, and
# left 3 s so their stamps are older than pack's racy window.
XFS=$S/xfs
xfs_down() {
	if mountpoint -q "$XFS" 2>/dev/null; then umount "$XFS" || umount -l "$XFS"; fi
	rm -f "$S/xfs.img"
}
xfs_up() { # prints why not, if it cannot
	local img=$S/xfs.img
	((EUID == 0)) || { echo "needs root (to mount an XFS image)"; return 1; }
	command -v mkfs.xfs >/dev/null || { echo "mkfs.xfs is missing (scripts/tools.sh mkfs.xfs, or apt-get install xfsprogs)"; return 1; }
	xfs_down
	rm -f "$img" && mkdir -p "$XFS" && truncate -s $((TOTAL * 5 / 4 + (512 << 20))) "$img" || { echo "cannot create $img"; return 1; }
	mkfs.xfs -q -f -m reflink=1 "$img" >>"$LOGS/xfs.log" 2>&1 || { echo "mkfs.xfs -m reflink=1 failed (see $LOGS/xfs.log)"; return 1; }
	mount -o loop "$img" "$XFS" >>"$LOGS/xfs.log" 2>&1 || { echo "mount -o loop failed: no loop device or no permission (see $LOGS/xfs.log)"; return 1; }
	cp -r "$D/model" "$XFS/model" && sync && sleep 3
}
ZX="\"\$S/xfs/model\""
def z_sha2w "SHA-256 of the shards on XFS, two-way parallel" -w "$ZX" -- '"$SHA" -j 2 "$S"/xfs/model/*.safetensors >/dev/null'
def z_raw "oci-pack pack, shards raw, input and layout on one XFS (reflink)" -w "$ZX" -i "$ZX" -s 'rm -rf "$S/xfs/L"' -c 'rm -rf "$S/xfs/L"' -- "\"\$B\" pack \"\$S/xfs/L:v1\" \"\$S\"/xfs/model/* --artifact-type $AT -q"

TEXTP='"$B" pack "$W/Lt:v1" "$D/text" --artifact-type application/vnd.bench.text.v1 -q'
def p_zstd2 "oci-pack pack $TEXT_H text dir, zstd -3, --jobs 2" -w '"$D/text"' -i '"$D/text"' -s 'rm -rf "$W/Lt"' -o '"$W/Lt/blobs"' -c 'rm -rf "$W/Lt"' -- "$TEXTP --compression zstd --level 3 --jobs 2"
def p_zstd1 "oci-pack pack $TEXT_H text dir, zstd -3, --jobs 1" -w '"$D/text"' -s 'rm -rf "$W/Lt"' -o '"$W/Lt/blobs"' -c 'rm -rf "$W/Lt"' -- "$TEXTP --compression zstd --level 3 --jobs 1"
def p_gzip "oci-pack pack $TEXT_H text dir, gzip -6, --jobs 2" -w '"$D/text"' -i '"$D/text"' -s 'rm -rf "$W/Lt"' -o '"$W/Lt/blobs"' -c 'rm -rf "$W/Lt"' -- "$TEXTP --compression gzip --level 6 --jobs 2"

SMALLP='"$B" pack "$W/Ls:v1" "$D/small" --artifact-type application/vnd.bench.small.v1 -q'
def s_sha "SHA-256 of the two $SMALL_H shards in parallel" -w '"$D/small"' -- '"$SHA" -j 2 "$D"/small/* >/dev/null'
def s_zstd "zstd -3 -T0 of the two $SMALL_H shards + sync" -w '"$D/small"' -o '"$W/small.zst"' -c 'rm -f "$W/small.zst"' -- 'zstd -3 -T0 -q -c "$D"/small/* >"$W/small.zst" && sync'
def s_raw "oci-pack pack dir of two $SMALL_H shards, uncompressed tar" -w '"$D/small"' -i '"$D/small"' -s 'rm -rf "$W/Ls"' -c 'rm -rf "$W/Ls"' -- "$SMALLP --compression none"
def s_zst "oci-pack pack dir of two $SMALL_H shards, zstd -3" -w '"$D/small"' -i '"$D/small"' -s 'rm -rf "$W/Ls"' -o '"$W/Ls/blobs"' -c 'rm -rf "$W/Ls"' -- "$SMALLP --compression zstd"
def s_files "oci-pack pack the two $SMALL_H shards as files (raw)" -w '"$D/small"' -i '"$D/small"' -s 'rm -rf "$W/Ls"' -c 'rm -rf "$W/Ls"' -- '"$B" pack "$W/Ls:v1" "$D"/small/* --artifact-type application/vnd.bench.small.v1 -q'

def n_cp "cp -r of $RAND_H random + sync" -w '"$D/random"' -s 'rm -rf "$W/rnd"' -c 'rm -rf "$W/rnd"' -- 'cp -r "$D/random" "$W/rnd" && sync'
def n_auto "oci-pack pack $RAND_H random dir, --compression auto" -w '"$D/random"' -i '"$D/random"' -s 'rm -rf "$W/Lr"' -o '"$W/Lr/blobs"' -c 'rm -rf "$W/Lr"' -- '"$B" pack "$W/Lr:v1" "$D/random" --artifact-type application/vnd.bench.random.v1 -q'

# Transfer: the layout packed above ($W/Lm) out and back in.
ARCH='"$W/x.tar"'
if has_cmd export; then
	def t_export "oci-pack export of the layout" -w '"$W/Lm"' -i '"$W/Lm"' -s 'rm -f "$W"/x.tar*' -- '"$B" export "$W/Lm" -o "$W/x.tar" -q'
	def t_exsplit "oci-pack export --split-size $SPLIT" -w '"$W/Lm"' -i '"$W/Lm"' -s 'rm -f "$W"/xs.tar*' -- "\"\$B\" export \"\$W/Lm\" -o \"\$W/xs.tar\" --split-size $SPLIT -q"
else
	na t_export "oci-pack export" "no export command at $COMMIT"
	na t_exsplit "oci-pack export --split-size" "no export command at $COMMIT"
	ARCH='"$W/t.tar"'
fi
def t_tarc "tar -cf of the layout dir (no sync)" -w '"$W/Lm"' -s 'rm -f "$W/t.tar"' -- 'tar -cf "$W/t.tar" -C "$W/Lm" .'
if command -v skopeo >/dev/null; then
	def t_skopeo "skopeo copy oci: → oci-archive:" -w '"$W/Lm"' -s 'rm -f "$W/s.tar"' -c 'rm -f "$W/s.tar"' -- 'skopeo --insecure-policy copy -q "oci:$W/Lm:v1" "oci-archive:$W/s.tar:v1"'
else na t_skopeo "skopeo copy oci: → oci-archive:" "skopeo not installed"; fi
if has_cmd import; then
	def t_import "oci-pack import of the archive (fresh layout)" -w "$ARCH" -i "$ARCH" -s 'rm -rf "$W/Li"' -c 'rm -rf "$W/Li"' -- "\"\$B\" import $ARCH \"\$W/Li\" -q"
	if has_cmd export; then
		def t_imsplit "oci-pack import of the split volumes" -w '"$W"/xs.tar.*' -i '"$W"/xs.tar.[0-9]*' -s 'rm -rf "$W/Li2"' -c 'rm -rf "$W/Li2"' -- '"$B" import "$W/xs.tar.000" "$W/Li2" -q'
	else na t_imsplit "oci-pack import of split volumes" "no export command at $COMMIT"; fi
else
	na t_import "oci-pack import" "no import command at $COMMIT"
	na t_imsplit "oci-pack import of split volumes" "no import command at $COMMIT"
fi
# Parity volumes and resumable import (issue 18 items 1-2) are measured
# only where this oci-pack has export --parity.
if has_cmd export && has_flag export --parity; then
	def t_expar "oci-pack export --split-size $SPLIT --parity 2" -w '"$W/Lm"' -i '"$W/Lm"' -s 'rm -f "$W"/xp.tar*' -- "\"\$B\" export \"\$W/Lm\" -o \"\$W/xp.tar\" --split-size $SPLIT --parity 2 -q"
	def t_imdeg "oci-pack import of those volumes, two data volumes deleted" -w '"$W"/xp.tar.*' -i '"$W"/xp.tar.*' \
		-s 'rm -rf "$W/Li3" "$W/xp.gone" && mkdir "$W/xp.gone" && mv "$W/xp.tar.001" "$W/xp.tar.002" "$W/xp.gone/"' \
		-c 'mv "$W"/xp.gone/* "$W/" && rm -rf "$W/Li3" "$W/xp.gone"' -- '"$B" import "$W/xp.tar.000" "$W/Li3" -q'
	def t_imres "oci-pack import of the split volumes, resumed after a kill (SIGTERM) at 90%" -w '"$W"/xs.tar.*' -i '"$W"/xs.tar.[0-9]*' \
		-s 'rm -rf "$W/Li4" && kill_at 0.9 "$W/Li4" "$W"/xs.tar.[0-9]*' -c 'rm -rf "$W/Li4"' -- '"$B" import "$W/xs.tar.000" "$W/Li4" -q'
else
	why="this oci-pack ($COMMIT) has no export --parity (issue 18 items 1-2, parity volumes and resumable import, are not merged yet)"
	na t_expar "oci-pack export --split-size $SPLIT --parity 2" "$why"
	na t_imdeg "oci-pack import with two data volumes deleted" "$why"
	na t_imres "oci-pack import resumed after a kill at 90%" "$why"
fi
# kill_at FRACTION LAYOUT VOLUME...: start an import of the volumes into
# LAYOUT and send it SIGTERM once it has read FRACTION of their bytes
# (its /proc/PID/io rchar); fails if it finishes first.
kill_at() {
	local frac=$1 dst=$2 total pid rchar
	shift 2
	total=$(stat -c %s "$@" | awk '{n += $1} END {printf "%.0f\n", n}')
	"$B" import "$1" "$dst" -q >/dev/null 2>&1 &
	pid=$!
	while rchar=$(awk '/^rchar:/ {print $2}' "/proc/$pid/io" 2>/dev/null) && [[ -n $rchar ]]; do
		if awk -v r="$rchar" -v t="$total" -v f="$frac" 'BEGIN {exit !(r >= f * t)}'; then
			kill -TERM "$pid"
			wait "$pid" || true
			echo "killed the import at $rchar of $total bytes read"
			return 0
		fi
		sleep 0.02
	done
	wait "$pid" || true
	echo "the import ended before reading $frac of the volumes"
	return 1
}
def t_tarx "tar -xf of the archive (fresh dir, no sync)" -w "$ARCH" -s 'rm -rf "$W/Lx" && mkdir "$W/Lx"' -c 'rm -rf "$W/Lx"' -- "tar -xf $ARCH -C \"\$W/Lx\""
if has_cmd extract; then
	def t_extract "oci-pack extract (fresh dir)" -w '"$W/Lm"' -i '"$W/Lm"' -s 'rm -rf "$W/ex"' -c 'rm -rf "$W/ex"' -- '"$B" extract "$W/Lm:v1" -o "$W/ex" -q'
else na t_extract "oci-pack extract" "no extract command at $COMMIT"; fi
def t_cp "cp -r of the model dir (no sync)" -w "$MODEL_WARM" -s 'rm -rf "$W/cpx"' -c 'rm -rf "$W/cpx"' -- 'cp -r "$D/model" "$W/cpx"'

# Re-pack into $W/Lm: unchanged, and with shard K rewritten (seed 100+run);
# clean restores the shard, the tag and the blobs, so every run starts alike.
PACKM="\"\$B\" pack \"\$W/Lm:v1\" \"\$D\"/model/* --artifact-type $AT -q --force"
GENK="\"\$S/bin/gendata\" shards -dir \"\$D/model\" -count $NSHARDS -size $SHARD -only $K"
def k_ref "oci-pack pack of that one shard alone (fresh layout)" -w "$SK" -i "$SK" -s 'rm -rf "$W/L1"' -c 'rm -rf "$W/L1"' -- "\"\$B\" pack \"\$W/L1:v1\" $SK --artifact-type $AT -q"
def k_unch "oci-pack re-pack, model unchanged" -w "$MODEL_WARM" -i "$MODEL_WARM" -- "$PACKM"
def k_one "oci-pack re-pack, one shard rewritten" -w "$MODEL_WARM" -i "$MODEL_WARM" -s "$GENK -seed \$((100 + RUN))" -c "$GENK -seed 1 && sleep 2.1 && $PACKM && \"\$B\" gc \"\$W/Lm\" -q" -- "$PACKM"

# A synthetic layout of $TAGS tags.
def b_ls "ls" -w '"$W/big"' -- '"$B" ls "$W/big" >/dev/null'
def b_tag "tag (one new tag)" -w '"$W/big/index.json"' -c '"$B" untag "$W/big:bench-new" -q' -- '"$B" tag "$W/big:t00042" bench-new -q'
def b_verify "verify --fast" -w '"$W/big"' -- '"$B" verify "$W/big" --fast -q'
def b_gc "gc ($ORPHANS unreferenced blobs)" -w '"$W/big"' -s "\"\$S/bin/genlayout\" -dir \"\$W/big\" -orphans $ORPHANS -orphans-only" -- '"$B" gc "$W/big" -q'

# Before every warm run the clean page cache is dropped (lib.sh fresh_memory).
if ! ((${FRESH:-1})); then
	FRESH_NOTE="turned off for this run (FRESH=0)"
elif [[ -w /proc/sys/vm/drop_caches ]]; then
	FRESH_NOTE="done for every run here"
else
	FRESH_NOTE="not permitted here, so a run's speed may depend on what ran before it"
fi

# Cold: page cache dropped before the run (root on a real kernel only).
DROP='sync && echo 3 >/proc/sys/vm/drop_caches'
if (eval "$DROP") 2>/dev/null; then
	def c_cat "cat of the shards, cold" -r 1 -s "$DROP" -- 'cat "$D"/model/*.safetensors >/dev/null'
	def c_sha2w "SHA-256 of all shards, two-way parallel, cold" -r 1 -s "$DROP" -- '"$SHA" -j 2 "$D"/model/*.safetensors >/dev/null'
	def c_raw "oci-pack pack, shards raw, cold" -r 1 -s "rm -rf \"\$W/Lc\" && $DROP" -c 'rm -rf "$W/Lc"' -- "\"\$B\" pack \"\$W/Lc:v1\" \"\$D\"/model/* --artifact-type $AT -q"
	COLD_NOTE="page cache dropped with \`echo 3 >/proc/sys/vm/drop_caches\` before each; this is a VM, so the host may still cache the disk image (cold-ish)"
else
	na c_cat "cat of the shards, cold" "cannot drop caches (echo 3 >/proc/sys/vm/drop_caches failed: not root or not permitted)"
	na c_sha2w "SHA-256, cold" "cannot drop caches"
	na c_raw "oci-pack pack, cold" "cannot drop caches"
	COLD_NOTE="not measured: dropping the page cache is not permitted here"
fi

# ------------------------------------------------------------ run
export SPLIT
ensure_packed() { # the transfer and re-pack groups start from $W/Lm holding the model
	[[ -f $W/Lm/index.json ]] || (cd "$W" && eval "$PACKM") >>"$LOGS/setup.log" 2>&1 || die "pack of the model failed (see $LOGS/setup.log)"
}
if ((REPORT_ONLY)); then
	# shellcheck source=/dev/null
	source "$S/meta.sh"
	write_report >"$OUT.tmp"
	mv "$OUT.tmp" "$OUT"
	write_chart
	log "rewrote $OUT and $PNG from $RES"
	exit 0
fi
START=$(date +%s)
group_on floor && series "floor" f_cat f_sha1 f_go1 f_sha2f f_zmodel
group_on pack && series "pack ${TOTAL_H} of shards raw" f_sha2w f_cp p_raw p_mp x_oras x_modctl
if group_on zerocopy; then
	trap xfs_down EXIT
	if why=$(xfs_up); then
		series "zero-copy pack on XFS" z_sha2w z_raw
	else
		log "n/a zero-copy group: $why"
		NAREASON[z_sha2w]=$why NAREASON[z_raw]=$why
	fi
	xfs_down
fi
group_on text && series "pack ${TEXT_H} of text compressed" f_ztext p_zstd2 p_zstd1 f_pigz p_gzip
group_on small && series "two ${SMALL_H} shards" s_sha s_zstd s_raw s_zst s_files
group_on random && series "${RAND_H} of random bytes" n_cp n_auto
if group_on transfer; then
	ensure_packed
	series "export / import / extract" t_tarc t_export t_skopeo t_tarx t_import t_exsplit t_imsplit t_expar t_imdeg t_imres t_cp t_extract
fi
if group_on repack; then
	ensure_packed
	series "re-pack" k_ref k_unch k_one
fi
if group_on big; then
	log "generating a layout with $TAGS tags"
	t0=$(date +%s.%N)
	"$S/bin/genlayout" -dir "$W/big" -tags "$TAGS" -orphans "$ORPHANS"
	BIG_GEN=$(awk -v a="$t0" -v z="$(date +%s.%N)" 'BEGIN{printf "%.1f", z-a}')
	BIG_BLOBS=$(find "$W/big/blobs/sha256" -type f | wc -l)
	series "synthetic layout: $TAGS tags" b_ls b_tag b_verify b_gc
fi
group_on cold && series "cold" c_cat c_sha2w c_raw
ELAPSED=$(($(date +%s) - START))
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
{
	declare -p NOTE NAREASON
	declare -p ELAPSED COMMIT REV RUNS LOADAVG
	declare -p BIG_GEN BIG_BLOBS 2>/dev/null || true
} >"$S/meta.sh"

write_report >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
write_chart
log "wrote $OUT and $PNG (measurements took $((ELAPSED / 60))m$((ELAPSED % 60))s)"
((KEEP)) || rm -rf "$W"

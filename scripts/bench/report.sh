# scripts/bench/report.sh — sourced by scripts/bench.sh: turn $RES into
# BENCHMARKS.md (machine, method, goals with PASS/MISS, one table per group
# with the exact commands). Reads the globals bench.sh sets.

# The reference each measurement is divided by in its group's table.
declare -A REFOF=(
	[p_raw]=floor_pack [p_mp]=p_raw [x_oras]=floor_pack [x_modctl]=p_mp [z_raw]=z_sha2w
	[p_zstd2]=f_ztext [p_zstd1]=f_ztext [p_gzip]=f_pigz
	[s_raw]=s_sha [s_files]=s_sha [s_zst]=s_zstd [n_auto]=n_cp
	[t_export]=t_tarc [t_exsplit]=t_tarc [t_skopeo]=t_tarc [t_import]=t_tarx [t_imsplit]=t_tarx
	[t_expar]=t_exsplit [t_imdeg]=t_imsplit [t_imres]=t_imsplit
	[t_extract]=t_cp [k_unch]=p_raw [k_one]=k_ref [c_raw]=c_sha2w
)

# wall_of ID [min]: median (or lowest) wall seconds ("" if none);
# floor_pack is the larger of the two-way parallel SHA-256 (with the
# CPU's SHA extensions) and cp+sync, the raw pack's floor.
wall_of() {
	local f=${2:-wall}
	if [[ $1 == floor_pack ]]; then
		local a b
		a=$(stat_of f_sha2w "$f") b=$(stat_of f_cp "$f")
		[[ -n $a && -n $b ]] && awk -v a="$a" -v b="$b" 'BEGIN{print (a > b ? a : b)}'
		return 0
	fi
	stat_of "$1" "$f"
}

# ratio A B: A's median wall ÷ B's, then in parentheses the same for the
# best (lowest-wall) runs and for median user+sys CPU seconds; or "".
ratio() {
	local m n c
	m=$(div "$(wall_of "$1")" "$(wall_of "$2")")
	n=$(div "$(wall_of "$1" min)" "$(wall_of "$2" min)")
	c=$(div "$(wall_of "$1" cpu)" "$(wall_of "$2" cpu)")
	[[ -n $m ]] && echo "$m × (best runs: $n ×; CPU: $c ×)"
	return 0
}

# div A B: A/B to 2 decimals (2 significant digits below 0.1), or "" if either is missing or B is 0.
div() { [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf (a/b < 0.1 ? "%.2g" : "%.2f"), a/b }' || true; }

# verdict VALUE OP LIMIT: PASS/MISS for VALUE <= or >= LIMIT; n/a if no value.
verdict() {
	[[ -z $1 ]] && {
		echo "n/a"
		return
	}
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN{ ok = (op == "<=") ? v <= l : v >= l; print ok ? "**PASS**" : "**MISS**" }'
}

num() { [[ -n $1 ]] && printf "%.2f" "$1" || printf "—"; }
mib() { [[ -n $1 ]] && echo $(($1 / 1024)) || printf "—"; }

# row ID: one table row.
row() {
	local id=$1 n ref r note rr
	if [[ -n ${NAREASON[$id]:-} ]]; then
		printf '| %s | — | — | — | — | — | — | — | n/a: %s |\n' "${LABEL[$id]}" "${NAREASON[$id]}"
		return
	fi
	n=$(stat_of "$id" n)
	note=${NOTE[$id]:-}
	if ((n == 0)); then
		printf '| %s | — | — | — | — | — | — | — | %s |\n' "${LABEL[$id]}" "${note:-not run}"
		return
	fi
	ref=${REFOF[$id]:-} r=""
	[[ -n $ref ]] && r=$(div "$(wall_of "$id")" "$(wall_of "$ref")")
	rr=$(read_ratio "$id")
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "${LABEL[$id]}" "$(num "$(stat_of "$id" wall)")" "$(num "$(stat_of "$id" min)")" \
		"$(num "$(stat_of "$id" cpu)")" "$(mib "$(stat_of "$id" rss)")" \
		"${r:+$r × \`$ref\`}" "${rr:-—}" "$(num "$(stat_of "$id" bg)")" "$n run(s)${note:+; $note}"
}

# table TITLE ID...: a group's table and its exact commands.
table() {
	local title=$1 id
	shift
	printf '\n### %s\n\n' "$title"
	echo '| measurement | wall s (median) | wall s (best) | user+sys s (median) | peak RSS MiB (max) | wall ÷ reference | input read ÷ size | other CPU s (median) | runs |'
	echo '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |'
	for id in "$@"; do row "$id"; done
	printf '\n<details><summary>commands</summary>\n\n```sh\n'
	for id in "$@"; do
		[[ -n ${CMD[$id]:-} ]] || continue
		printf '# %s — %s\n' "$id" "${LABEL[$id]}"
		[[ -n ${SETUP[$id]} ]] && printf '#   before (untimed): %s\n' "${SETUP[$id]}"
		[[ -n ${CLEAN[$id]} ]] && printf '#   after (untimed):  %s\n' "${CLEAN[$id]}"
		printf '%s\n' "${CMD[$id]}"
	done
	printf '```\n\n</details>\n'
}

# goal WORK GOAL MEASURED VERDICT: one line of the goals table.
goal() { printf '| %s | %s | %s | %s |\n' "$1" "$2" "${3:-not measured}" "$4"; }

same_digests() { # same_digests ID...: PASS if every run of the IDs printed the same digest
	local files=() id
	for id in "$@"; do files+=("$LOGS/$id".*.out); done
	[[ -e ${files[0]} ]] || {
		echo "n/a"
		return
	}
	if (($(cat "${files[@]}" | sort -u | wc -l) == 1)); then echo "**PASS**"; else echo "**MISS**"; fi
}

write_goals() {
	local r t a b id over
	echo '| work | goal | measured | result |'
	echo '| --- | --- | --- | --- |'
	r=$(div "$(wall_of p_raw)" "$(wall_of floor_pack)") t=$(ratio p_raw floor_pack)
	goal "pack $TOTAL_H of shards raw" "wall ≤ 1.15 × max(two-way SHA-256 with SHA extensions, cp+sync)" "${t:+$t}" "$(verdict "$r" '<=' 1.15)"
	r=$(div "$(wall_of x_oras)" "$(wall_of p_raw)") t=$(ratio x_oras p_raw)
	goal "pack $TOTAL_H of shards raw" "≥ 2× faster than oras push --oci-layout" "${t:+oras takes $t as long}" "$(verdict "$r" '>=' 2)"
	r=$(div "$(wall_of p_mp)" "$(wall_of p_raw)") t=$(ratio p_mp p_raw)
	goal "pack --preset modelpack of the model" "wall ≤ 1.05 × a raw pack of the same files" "${t:+$t}" "$(verdict "$r" '<=' 1.05)"
	r=$(div "$(wall_of x_modctl)" "$(wall_of p_mp)") t=$(ratio x_modctl p_mp)
	goal "pack --preset modelpack of the model" "≥ 2× faster than modctl build --raw" "${t:+modctl takes $t as long}" "$(verdict "$r" '>=' 2)"
	r=$(div "$(wall_of z_raw)" "$(wall_of z_sha2w)") t=$(ratio z_raw z_sha2w)
	goal "zero-copy pack on XFS (reflink)" "wall ≤ 1.2 × two-way SHA-256 of the same files" "${t:+$t}" "$(verdict "$r" '<=' 1.2)"
	r=$(div "$(wall_of f_ztext)" "$(wall_of p_zstd2)") t=$(ratio f_ztext p_zstd2)
	goal "pack $TEXT_H of text, zstd -3" "≥ 0.9 × the throughput of zstd -3 -T0" "${t:+$t the zstd throughput}" "$(verdict "$r" '>=' 0.9)"
	r=$(div "$(wall_of p_zstd1)" "$(wall_of p_zstd2)") t=$(ratio p_zstd1 p_zstd2)
	goal "pack $TEXT_H of text, zstd -3" "--jobs 2 ≥ 1.7× faster than --jobs 1" "${t:+$t}" "$(verdict "$r" '>=' 1.7)"
	goal "pack $TEXT_H of text, zstd -3" "same bytes with --jobs 1 and 2" "manifest digests of all runs compared" "$(same_digests p_zstd1 p_zstd2)"
	r=$(div "$(wall_of f_pigz)" "$(wall_of p_gzip)") t=$(ratio f_pigz p_gzip)
	goal "pack $TEXT_H of text, gzip -6" "≥ 0.9 × the throughput of pigz -6" "${t:+$t the pigz throughput}" "$(verdict "$r" '>=' 0.9)"
	r=$(div "$(wall_of k_unch)" "$(wall_of p_raw)") t=$(ratio k_unch p_raw)
	goal "re-pack of the unchanged model" "≤ 5% of the first pack's wall (ratio ≤ 0.05)" "${t:+$t}" "$(verdict "$r" '<=' 0.05)"
	r=$(div "$(wall_of k_one)" "$(wall_of k_ref)") t=$(ratio k_one k_ref)
	goal "re-pack with one shard changed" "≤ 1.3 × that shard's own pack (hash + store)" "${t:+$t}" "$(verdict "$r" '<=' 1.3)"
	r=$(div "$(wall_of t_export)" "$(wall_of t_tarc)") t=$(ratio t_export t_tarc)
	goal "export of the $TOTAL_H layout" "wall ≤ 1.2 × tar -cf of the layout dir" "${t:+$t}" "$(verdict "$r" '<=' 1.2)"
	r=$(div "$(wall_of t_import)" "$(wall_of t_tarx)") t=$(ratio t_import t_tarx)
	goal "import of that archive" "wall ≤ 1.3 × tar -xf" "${t:+$t}" "$(verdict "$r" '<=' 1.3)"
	t=$(ratio t_export f_sha2w)
	goal "export, next to hashing the same bytes" "information (issue 4): export ÷ two-way parallel SHA-256 of the shards" "${t:+$t}" "—"
	t=$(ratio t_import f_sha2w)
	goal "import, next to hashing the same bytes" "information (issue 4): import ÷ two-way parallel SHA-256 of the shards" "${t:+$t}" "—"
	r=$(div "$(wall_of t_expar)" "$(wall_of t_exsplit)") t=$(ratio t_expar t_exsplit)
	goal "export with --parity 2" "wall ≤ 1.3 × export --split-size without parity" "${t:+$t}" "$(verdict "$r" '<=' 1.3)"
	r=$(div "$(wall_of t_imdeg)" "$(wall_of t_imsplit)") t=$(ratio t_imdeg t_imsplit)
	goal "import with two data volumes deleted" "succeeds, wall ≤ 2 × a normal import of split volumes" "${t:+$t}" "$(verdict "$r" '<=' 2)"
	r=$(read_ratio t_imres)
	goal "import resumed after a kill at 90%" "reads ≤ 15% of the archive again" "${r:+$r of the archive read again}" "$(verdict "$r" '<=' 0.15)"
	r=$(div "$(wall_of t_cp)" "$(wall_of t_extract)") t=$(ratio t_cp t_extract)
	goal "extract of the model" "≥ 0.8 × the throughput of cp" "${t:+$t the cp throughput}" "$(verdict "$r" '>=' 0.8)"
	local most="" mid="" rr
	over=()
	for id in "${IDS[@]}"; do
		rr=$(read_ratio "$id")
		[[ -n $rr ]] || continue
		awk -v r="$rr" 'BEGIN {exit !(r > 1.01)}' && over+=("\`$id\` $rr")
		if [[ -z $most ]] || awk -v r="$rr" -v m="$most" 'BEGIN {exit !(r > m)}'; then most=$rr mid=$id; fi
	done
	goal "each input byte read once, every pack, export, import, extract" "input bytes read ÷ input size ≤ 1.01 (strace count)" "${most:+highest: $most (\`$mid\`)}${over:+; over: ${over[*]}}" "$(verdict "$most" '<=' 1.01)"
	local worst="" wid="" rss
	over=()
	for id in "${IDS[@]}"; do
		[[ ${LABEL[$id]} == oci-pack* && -z ${NAREASON[$id]:-} ]] || [[ $id == b_* && -z ${NAREASON[$id]:-} ]] || continue
		rss=$(stat_of "$id" rss)
		[[ -n $rss ]] || continue
		((rss > 200 * 1024)) && over+=("\`$id\` $(awk -v k="$rss" 'BEGIN{printf "%.1f", k/1024}') MiB")
		if [[ -z $worst ]] || ((rss > worst)); then worst=$rss wid=$id; fi
	done
	if [[ -n $worst ]]; then
		goal "peak RSS, every oci-pack command" "≤ 200 MiB" "highest: $(awk -v k="$worst" 'BEGIN{printf "%.1f", k/1024}') MiB (\`$wid\`)${over:+; over: ${over[*]}}" "$(verdict "$worst" '<=' $((200 * 1024)))"
	else
		goal "peak RSS, every oci-pack command" "≤ 200 MiB" "" "n/a"
	fi
	a=$(stat_of s_files rss) b=$(stat_of p_raw rss)
	r=$(div "$b" "$a")
	goal "peak RSS does not grow with size: raw files" "the same at $SMALL_H and $SHARD_H files (within 25%)" "${r:+$((a / 1024)) → $((b / 1024)) MiB ($r ×)}" "$(verdict "$r" '<=' 1.25)"
	a=$(stat_of s_zst rss) b=$(stat_of p_zstd2 rss)
	r=$(div "$b" "$a")
	goal "peak RSS does not grow with size: zstd" "the same at $((2 * SMALL >> 20)) MiB and $TEXT_H inputs (within 25%)" "${r:+$((a / 1024)) → $((b / 1024)) MiB ($r ×)}" "$(verdict "$r" '<=' 1.25)"
	local n
	for n in "b_ls ls 1" "b_tag tag 0.3" "b_verify verify_--fast 5" "b_gc gc 10"; do
		set -- $n
		r=$(wall_of "$1")
		goal "layout of $TAGS tags, $((BIG_BLOBS - ORPHANS)) blobs: ${2//_/ }" "≤ $3 s" "${r:+$(num "$r") s}" "$(verdict "$r" '<=' "$3")"
	done
}

# noise_banner: a warning when other work took a large share of the
# machine during the runs (median over runs longer than 0.5 s of the
# other processes' CPU ÷ wall, in cores).
noise_banner() {
	local cores
	cores=$(awk -F'\t' '$3 == 0 && $4 > 0.5 { n++; v[n] = $8 / $4 }
		END { if (n == 0) exit; for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j+1] = v[j]; v[j+1] = t }
			printf "%.2f", n % 2 ? v[(n+1)/2] : (v[n/2] + v[n/2+1]) / 2 }' "$RES")
	[[ -n $cores ]] && awk -v c="$cores" 'BEGIN{exit !(c > 0.25)}' || return 0
	cat <<EOF

> **Noisy run.** During the median run, other processes on this shared machine used **$cores of its
> $(nproc) cores** (the "other CPU s" column has each run's figure). Wall-clock times, and so the
> wall ratios and PASS/MISS verdicts on them, are inflated and unreliable in this run; user+sys
> CPU seconds and peak RSS are much less affected. Re-run \`make bench\` on a quiet machine for
> the figures that count.
EOF
}

write_report() {
	local zs zt
	zs=$(div "$(stat_of f_zmodel size)" "$((NSHARDS * SHARD))")
	zt=$(div "$(stat_of f_ztext size)" "$TEXT")
	cat <<EOF
# oci-pack benchmarks

Generated by \`scripts/bench.sh$( ((QUICK)) && echo " --quick")\` (\`make bench\`) on $(date -u +%Y-%m-%d) — do not edit by hand; re-run it.
Every figure below comes from this one run, on this machine, with all tools side by side.

$(noise_banner)

![Throughput of each operation, against its floor and the best peer]($(basename "$PNG"))

## Machine

| | |
| --- | --- |
| CPU | $(lscpu | sed -n 's/^Model name: *//p' | head -n1), $(nproc) cores$(grep -qw sha_ni /proc/cpuinfo && echo ", SHA-NI" || echo ", no SHA-NI (SHA-256 in software/AVX2)") |
| memory | $(free -g | awk '/^Mem:/{print $2}') GiB |
| disk | $(df -T "$S" | awk 'NR==2{print $2 " on " $1 ", " int($3/1048576) " GiB"}') (scratch \`$S\`) |
| kernel | $(uname -sr) |
| Go | $(go version | awk '{print $3}') |
| oci-pack | $COMMIT$([[ -n $REV ]] && echo " (built from git revision $REV)") |
| peers | $(command -v modctl >/dev/null && modctl version 2>/dev/null | awk '/^Version/{print "modctl " $2 ", "}')$(command -v oras >/dev/null && oras version 2>/dev/null | awk '/^Version/{print "oras " $2}')$(command -v skopeo >/dev/null && skopeo --version | awk '{print ", skopeo " $3}'), $(zstd --version | grep -o 'v[0-9.]*' | head -n1 | sed 's/^/zstd /'), $(pigz --version 2>&1 | head -n1), $(tar --version | head -n1), $(sha256sum --version | head -n1) |
| load | load average at the end of the measurements ${LOADAVG:-$(cut -d' ' -f1-3 /proc/loadavg)}; the "other CPU s" column is CPU time the rest of the machine used during each run (other processes, steal) — this machine is shared with other work, so runs with a large value there are noisy |

## Method

- Runs: each measurement $RUNS times (fewer where noted), interleaved round by round within its group so drifts hit all alike; **wall and user+sys are medians, peak RSS is the highest** (GNU \`/usr/bin/time -f '%e %U %S %M'\`). The best (lowest) wall is shown too: on a shared machine it is the closest to the uncontended figure. Goals are judged on medians.
- Noise: before each run the harness waits (up to $SETTLE s) until the rest of the machine uses under a quarter of a core; "other CPU s" is what the rest of the machine still used during the run (2 cores × wall − the command's own user+sys at most).
- **Warm**: before every run the clean page cache is dropped (\`sync; echo 1 >/proc/sys/vm/drop_caches\`, where permitted: $FRESH_NOTE), so each run starts with the same free memory whatever ran before it, and then its own inputs are read with \`cat\` (these machines also evict page cache idle ~30 s); outputs are written to the same file system. Cold: $COLD_NOTE.
- Inputs (generated by \`scripts/bench/gendata\`, deterministic, at $GEN_RATE MiB/s): \`\$D/model\` = $NSHARDS × $SHARD_H bf16-like safetensors shards (upper 16 bits of N(0, 0.02) float32 samples; \`zstd -3\` ratio ${zs:-?}) + config.json + a $(hum "$TOK") tokenizer.json; \`\$D/text\` = $TEXT_H of English-like prose and JSON logs (\`zstd -3\` ratio ${zt:-?}); \`\$D/random\` = $RAND_H random; \`\$D/small\` = two $SMALL_H shards. The synthetic layout: $TAGS tags, ${BIG_BLOBS:-?} blobs (incl. $ORPHANS unreferenced), written in ${BIG_GEN:-?} s by \`scripts/bench/genlayout\`.
- Split volumes are \`--split-size $SPLIT\`: the model layout becomes about $((TOTAL / $(bytes "$SPLIT") + 1)) data volumes, the proportion of a 70 GB model on FAT32's 4 GiB volumes (17 of them). Two parity volumes add 2 ÷ that many bytes (12% at 17 volumes; with 1 GiB volumes they would add 50%, and parity could not stay within 1.3 × on a disk-bound machine).
- In the commands: \`\$B\` = the oci-pack binary built for this run (\`CGO_ENABLED=0 go build -trimpath -ldflags '-s -w'\`), \`\$D\` = inputs, \`\$W\` = outputs, \`\$S\` = scratch. \`oci-pack\` fsyncs what it stores; where a floor or peer does not, the label says "no sync".
- In the goals, "best runs" divides the lowest walls, "CPU" the median user+sys seconds (for the \`floor_pack\` reference, the larger of the two floors' CPU): neither decides a verdict, they show how much of a ratio is noise.
- "wall ÷ reference" divides a row's median wall by the median wall of the named reference (\`floor_pack\` = the larger of two-way SHA-256 and \`cp\`+\`sync\`). Goals are never relaxed: a MISS is a MISS.
- Hashing floor: Go's \`crypto/sha256\` (\`scripts/bench/shafloor\`, N files at a time), which uses the CPU's SHA extensions where present, as oci-pack does; coreutils \`sha256sum\` does not and is 3–4× slower on such CPUs (shown once in the floor table, not used as a floor).
- "input read ÷ size": one more run of each oci-pack command, untimed, under \`strace -f -y\`, sums what \`read\`, \`pread64\`, \`readv\`, \`preadv\`, \`copy_file_range\`, \`sendfile\` and \`splice\` took out of the command's input files (\`scripts/bench/readcount.awk\`) and divides by their size: 1.000 means each input byte was read once (a kernel copy counts as a read; a clone reads nothing). Inputs: the packed files; the layout for export and extract; the volumes for import.
- The chart (\`$(basename "$PNG")\`, drawn by \`scripts/bench/chart\` from \`results.tsv\` and \`chart.tsv\` in the scratch dir) shows each operation's throughput (input bytes ÷ median wall) beside its floor's and the best peer's.
- The measurements took $((ELAPSED / 60)) min $((ELAPSED % 60)) s.

## Goals (issues 2, 4, 6, 18)

EOF
	write_goals
	table "Physical floor" f_cat f_sha1 f_go1 f_sha2f f_zmodel
	table "Pack $TOTAL_H of shards raw (issues 6, 18)" f_sha2w f_cp p_raw p_mp x_oras x_modctl
	table "Zero-copy pack: shards and layout on one XFS with reflink (issue 18)" z_sha2w z_raw
	table "Pack $TEXT_H of text compressed (issue 6)" f_ztext p_zstd2 p_zstd1 f_pigz p_gzip
	table "Two $SMALL_H shards (issue 2)" s_sha s_zstd s_files s_raw s_zst
	table "$RAND_H of random bytes" n_cp n_auto
	table "Export, import, extract of the $TOTAL_H layout (issues 4, 18)" t_tarc t_export t_exsplit t_expar t_skopeo t_tarx t_import t_imsplit t_imdeg t_imres t_cp t_extract
	table "Re-pack (issue 6)" k_ref k_unch k_one
	table "Synthetic layout: $TAGS tags (issue 6)" b_ls b_tag b_verify b_gc
	table "Cold (page cache dropped)" c_cat c_sha2w c_raw
	if [[ -f $REPO/scripts/bench/NOTES.md ]] && ((!QUICK)); then
		printf '\n'
		cat "$REPO/scripts/bench/NOTES.md"
	fi
}

# write_chart: the operations of the chart (label, input bytes, oci-pack
# id, floor ids, peer ids) into $CHART_SPEC, then the PNG beside the
# report, drawn from $RES by scripts/bench/chart.
write_chart() {
	local model text
	model=$(find "$D/model" -type f -printf '%s\n' 2>/dev/null | awk '{n += $1} END {printf "%.0f\n", n}')
	text=$(find "$D/text" -type f -printf '%s\n' 2>/dev/null | awk '{n += $1} END {printf "%.0f\n", n}')
	{
		printf '%s\t%s\t%s\t%s\t%s\n' "pack $TOTAL_H shards raw" "$model" p_raw f_sha2w,f_cp x_oras
		printf '%s\t%s\t%s\t%s\t%s\n' "pack --preset modelpack" "$model" p_mp f_sha2w,f_cp x_modctl
		printf '%s\t%s\t%s\t%s\t%s\n' "zero-copy pack (XFS)" "$model" z_raw z_sha2w -
		printf '%s\t%s\t%s\t%s\t%s\n' "pack $TEXT_H text, zstd -3" "$text" p_zstd2 f_ztext -
		printf '%s\t%s\t%s\t%s\t%s\n' "pack $TEXT_H text, gzip -6" "$text" p_gzip f_pigz -
		printf '%s\t%s\t%s\t%s\t%s\n' "export" "$model" t_export t_tarc t_skopeo
		printf '%s\t%s\t%s\t%s\t%s\n' "export --split-size --parity 2" "$model" t_expar t_tarc -
		printf '%s\t%s\t%s\t%s\t%s\n' "import" "$model" t_import t_tarx -
		printf '%s\t%s\t%s\t%s\t%s\n' "import, 2 data volumes lost" "$model" t_imdeg t_tarx -
		printf '%s\t%s\t%s\t%s\t%s\n' "extract" "$model" t_extract t_cp -
	} >"$CHART_SPEC"
	"$S/bin/chart" -results "$RES" -spec "$CHART_SPEC" -o "$PNG" \
		-title "oci-pack throughput, MB/s, at $COMMIT (higher is better)" || log "drawing $PNG failed"
}

#!/usr/bin/env bash
# Issue 15's measurement: the release CLI and DuckDB on the same generated bundle,
# each run RUNS times under GNU time (/usr/bin/time -v); prints medians and a
# markdown table ready for docs/performance.md, with the ratios the targets need.
#
#   benches/compare.sh                                # 1 M signals, every run, 3 times each
#   benches/compare.sh --sizes 1m,10m                 # both reference sizes (10 M: no pack/verify)
#   THREADS="1 2" benches/compare.sh --runs-what nopack,pack
#   CLI=/work/bench/eucora-license-before benches/compare.sh --runs-what nopack,duckdb
#   RUNS=1 benches/compare.sh --sizes 100k            # a quick check of the script itself
#   benches/compare.sh --dir 1m=/tmp/b1m,10m=/work/bench/b10m --sizes 1m,10m
#
# Options (flags win over environment variables):
#   --sizes / SIZES         comma list of signal counts, k/M suffixes   (default 1m)
#   --runs / RUNS           timed runs of each command                  (default 3)
#   --runs-what / RUNS_WHAT comma list of nopack,pack,verify,chained,duckdb (default all)
#   --threads / THREADS     space or comma list, e.g. "1 2": each reconcile run is repeated
#                           with --threads N and the outputs are compared byte for byte
#                           (unset: --threads is not passed at all)
#   --large-pack / LARGE_PACK=1  also run pack and verify from 5 M signals up (slow, big packs)
#   --dir / BUNDLE          bundle directory for a single size, or size=dir,size=dir
#                           (default target/bench-<size>, shared with run-cli.sh)
#   --out-root / OUT_ROOT   where the runs write        (default <bundle>-cmp, one per size)
#   --duckdb-threads / DUCKDB_THREADS  DuckDB thread settings, "1" or "1 all" (default 1)
#   --venv / BENCH_VENV     virtualenv for DuckDB      (default target/bench-venv)
#   --seed / SEED           generator seed             (default 1)
#   CLI=path                time this binary instead of building the release CLI
#   DUCKDB_VERSION          the duckdb package pinned in the venv (default 2.0.1)
#
# Sizes: devices = signals / 5 (at most 1 M), users = devices * 3 / 10, 500 SKUs
# (2000 from 5 M up): 1m = gen-workload's defaults, 10m = --devices 1M --users 300k
# --skus 2000. A bundle is generated only when its directory has no bundle.json.
# The chained run reconciles the same bundle with --previous set to the pack run's
# evidence.tar when there is one (a diff unit by unit), else the no-pack run's
# snapshot.json (counter deltas). Needs GNU time: `apt-get install -y time`.
set -euo pipefail

cd "$(dirname "$0")/.."

SIZES="${SIZES:-1m}"
RUNS="${RUNS:-3}"
RUNS_WHAT="${RUNS_WHAT:-nopack,pack,verify,chained,duckdb}"
THREADS="${THREADS:-}"
LARGE_PACK="${LARGE_PACK:-0}"
BUNDLE="${BUNDLE:-}"
OUT_ROOT="${OUT_ROOT:-}"
DUCKDB_THREADS="${DUCKDB_THREADS:-1}"
BENCH_VENV="${BENCH_VENV:-target/bench-venv}"
DUCKDB_VERSION="${DUCKDB_VERSION:-2.0.1}"
SEED="${SEED:-1}"
TARGET="${CARGO_TARGET_DIR:-target}"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "compare.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --sizes) SIZES="$2"; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        --runs-what) RUNS_WHAT="$2"; shift 2 ;;
        --threads) THREADS="$2"; shift 2 ;;
        --large-pack) LARGE_PACK=1; shift ;;
        --dir) BUNDLE="$2"; shift 2 ;;
        --out-root) OUT_ROOT="$2"; shift 2 ;;
        --duckdb-threads) DUCKDB_THREADS="$2"; shift 2 ;;
        --venv) BENCH_VENV="$2"; shift 2 ;;
        --seed) SEED="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument '$1' (try --help)" ;;
    esac
done

# Accept 10M / 300k / 1_000_000 (`num`).
source benches/sizes.sh
label_of() {
    local n=$1
    if [ $(( n % 1000000 )) -eq 0 ]; then echo "$(( n / 1000000 ))m"
    elif [ $(( n % 1000 )) -eq 0 ]; then echo "$(( n / 1000 ))k"
    else echo "$n"; fi
}

[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, not '$RUNS'"
want() { [[ ",$RUNS_WHAT," == *",$1,"* ]]; }
for w in ${RUNS_WHAT//,/ }; do
    case "$w" in nopack|pack|verify|chained|duckdb) ;; *) die "unknown run '$w' in --runs-what (nopack,pack,verify,chained,duckdb)" ;; esac
done
THREADS="${THREADS//,/ }"
for t in $THREADS; do [[ "$t" =~ ^[1-9][0-9]*$ ]] || die "THREADS: '$t' is not a positive integer"; done
DUCKDB_THREADS="${DUCKDB_THREADS//,/ }"
for t in $DUCKDB_THREADS; do [[ "$t" =~ ^([1-9][0-9]*|all)$ ]] || die "DUCKDB_THREADS: '$t' is not a positive integer or 'all'"; done

sizes=()
for s in ${SIZES//,/ }; do
    n=$(num "$s") || die "size '$s' is not a number (e.g. 100k, 1m, 10m)"
    [ "$n" -gt 0 ] || die "size '$s' must be positive"
    sizes+=("$n")
done
[ ${#sizes[@]} -gt 0 ] || die "no size given"

# --dir: one directory (one size) or size=dir pairs.
declare -A bundle_of=()
if [ -n "$BUNDLE" ]; then
    if [[ "$BUNDLE" == *=* ]]; then
        for pair in ${BUNDLE//,/ }; do
            n=$(num "${pair%%=*}") || die "--dir: '${pair%%=*}' is not a size"
            bundle_of[$n]="${pair#*=}"
        done
    else
        [ ${#sizes[@]} -eq 1 ] || die "--dir DIR needs a single size; use --dir 1m=DIR1,10m=DIR2"
        bundle_of[${sizes[0]}]="$BUNDLE"
    fi
fi

if [ ! -x /usr/bin/time ] || ! /usr/bin/time -v true >/dev/null 2>&1; then
    die "GNU time not found at /usr/bin/time; install it with: apt-get install -y time"
fi

# ---------------------------------------------------------------- binaries
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
GEN="$TARGET/release/gen-workload"
if [ -z "${CLI:-}" ]; then
    echo "==> building the release CLI and gen-workload (CARGO_TARGET_DIR=$TARGET)"
    cargo build --release -q --locked -p eucora-license-cli -p eucora-license-benches
    CLI="$TARGET/release/eucora-license"
    built_from=", built from $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo ' plus uncommitted changes')"
else
    [ -x "$CLI" ] || die "CLI=$CLI is not an executable file"
    echo "==> timing CLI=$CLI (not rebuilt)"
fi
CLI=$(cd "$(dirname "$CLI")" && pwd)/$(basename "$CLI")
ensure_gen() {
    if [ ! -x "$GEN" ]; then
        echo "==> building gen-workload"
        cargo build --release -q --locked -p eucora-license-benches
    fi
}

if [ -n "$THREADS" ] && { want nopack || want pack || want chained; }; then
    # An unknown option is reported before any file is read, so this costs nothing.
    probe=$("$CLI" reconcile "$work/no-bundle" --out "$work/no-out" --no-pack --threads 1 2>&1 || true)
    if grep -q "unknown option \`--threads\`" <<<"$probe"; then
        die "THREADS='$THREADS' was given but $CLI rejects --threads (it predates the flag): unset THREADS to time it"
    fi
fi

# ---------------------------------------------------------------- helpers
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) exit 1; m = (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.2f\n", m}'; }
minimum() { sort -g | head -n 1 | awk '{printf "%.2f\n", $1}'; }
secs() { # h:mm:ss or m:ss(.ss) to seconds
    awk -F: '{ if (NF==3) printf "%.2f\n", $1*3600+$2*60+$3; else printf "%.2f\n", $1*60+$2 }' <<<"$1"
}
mib() { awk '{printf "%.0f MiB", $1/1024}' <<<"$1"; }
mb() { awk '{printf "%.1f MB", $1/1000000}' <<<"$1"; }

# ---------------------------------------------------------------- DuckDB venv
PY="$BENCH_VENV/bin/python"
if want duckdb; then
    if ! "$PY" -c "import duckdb" >/dev/null 2>&1; then
        echo "==> creating $BENCH_VENV with duckdb==$DUCKDB_VERSION"
        [ -x "$PY" ] || "${PYTHON:-python3}" -m venv "$BENCH_VENV"
        "$PY" -m pip install --quiet --disable-pip-version-check "duckdb==$DUCKDB_VERSION"
    fi
    duckdb_version=$("$PY" -c "import duckdb; print(duckdb.__version__)")
    # The DuckDB figures are whole-process like the CLI's; this says how much of them is
    # the interpreter's start and `import duckdb` (median of three).
    duckdb_start=$(for _ in 1 2 3; do /usr/bin/time -f %e "$PY" -c "import duckdb" 2>&1 >/dev/null; done | median)
    echo "==> DuckDB $duckdb_version ($BENCH_VENV); python start + import duckdb: $duckdb_start s"
fi

# ---------------------------------------------------------------- measuring
# Results, keyed "size|run": medians and minima as plain numbers (seconds, KiB).
declare -A r_wall_med=() r_wall_min=() r_user_med=() r_rss_med=() r_note=()
rows=()          # "size|run" in the order measured
failed_cmp=0

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b+0 == 0) print "n/a"; else printf "%.2f×\n", a/b }'; }

# measure SIZE RUN OUTDIR -- command...: RUNS timed runs; OUTDIR (if not "-") is
# emptied before each run so every run writes from scratch.
measure() {
    local size=$1 run=$2 outdir=$3; shift 4
    local key="$size|$run" i log walls=() cpus=() rsss=() status
    local label; label=$(label_of "$size")
    log=$(mktemp)
    for i in $(seq "$RUNS"); do
        [ "$outdir" = - ] || rm -rf "$outdir"
        set +e
        /usr/bin/time -v -o "$log" "$@" >"$work/last.out" 2>"$work/last.err"
        status=$?
        set -e
        if [ "$status" -ne 0 ]; then
            echo "    FAILED (exit $status): $*" >&2
            tail -n 20 "$work/last.err" | sed 's/^/    | /' >&2
            if grep -q "unknown option \`--threads\`" "$work/last.err"; then
                echo "    the CLI rejects --threads: unset THREADS, or time a CLI that has the flag" >&2
            fi
            rm -f "$log"
            exit 1
        fi
        walls+=("$(secs "$(sed -n 's/^[[:space:]]*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log")")")
        cpus+=("$(sed -n 's/^[[:space:]]*User time (seconds): //p' "$log")")
        rsss+=("$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$log")")
        echo "    [$label] $run, run $i/$RUNS: ${walls[-1]} s wall, ${cpus[-1]} s user, $(sed -n "s/^[[:space:]]*System time (seconds): //p" "$log") s system, $(mib "${rsss[-1]}")"
    done
    rm -f "$log"
    r_wall_med[$key]=$(printf '%s\n' "${walls[@]}" | median)
    r_wall_min[$key]=$(printf '%s\n' "${walls[@]}" | minimum)
    r_user_med[$key]=$(printf "%s\n" "${cpus[@]}" | median)
    r_rss_med[$key]=$(printf '%s\n' "${rsss[@]}" | median)
    r_note[$key]="${r_note[$key]:-}"
    rows+=("$key")
}
note() { r_note["$1|$2"]="${r_note["$1|$2"]:+${r_note["$1|$2"]}; }$3"; }

# cmp_outputs SIZE KIND FILES...: the outputs of every thread count against the first.
cmp_outputs() {
    local size=$1 kind=$2; shift 2
    local first="" t f same=1
    [ "$(wc -w <<<"$THREADS")" -gt 1 ] || return 0
    for t in $THREADS; do
        if [ -z "$first" ]; then first=$t; continue; fi
        for f in "$@"; do
            if ! cmp -s "$out_root/$kind-t$first/$f" "$out_root/$kind-t$t/$f"; then
                echo "==> [$(label_of "$size")] $kind: $f DIFFERS between --threads $first and --threads $t" >&2
                same=0; failed_cmp=1
            fi
        done
    done
    if [ "$same" = 1 ]; then
        echo "==> [$(label_of "$size")] $kind: byte-identical across --threads ${THREADS// /, } ($*)"
        note "$size" "$kind t$first" "identical for --threads ${THREADS// /, }"
    fi
}

# Each reconcile kind runs once per thread setting: "" (flag not passed) or tN.
thread_settings=("")
if [ -n "$THREADS" ]; then read -r -a thread_settings <<<"$THREADS"; fi
run_name() { if [ -n "$2" ]; then echo "$1 t$2"; else echo "$1"; fi; }
dir_name() { if [ -n "$2" ]; then echo "$1-t$2"; else echo "$1"; fi; }
tflag() { if [ -n "$1" ]; then echo "--threads $1"; fi; }

for size in "${sizes[@]}"; do
    label=$(label_of "$size")
    bundle="${bundle_of[$size]:-target/bench-$label}"
    if [ -f "$bundle/bundle.json" ]; then
        echo "==> [$label] reusing $bundle"
    else
        ensure_gen
        devices=$(( size / 5 )); [ "$devices" -gt 1000000 ] && devices=1000000; [ "$devices" -lt 1 ] && devices=1
        users=$(( devices * 3 / 10 )); [ "$users" -lt 1 ] && users=1
        if [ "$size" -ge 5000000 ]; then skus=2000; else skus=500; fi
        echo "==> [$label] generating $size signals ($devices devices, $users users, $skus SKUs, seed $SEED) into $bundle"
        rm -rf "$bundle"
        "$GEN" --out "$bundle" --signals "$size" --devices "$devices" --users "$users" --skus "$skus" --seed "$SEED" >/dev/null
    fi
    out_root="${OUT_ROOT:+$OUT_ROOT/$label}"
    out_root="${out_root:-${bundle%/}-cmp}"
    mkdir -p "$out_root"
    out_root=$(cd "$out_root" && pwd)
    input_bytes=$(du -sb "$bundle" | cut -f1)
    # Counting the lines also warms the page cache: every run reads warm files.
    echo "==> [$label] reading $bundle once (row count, page cache)"
    cat "$bundle"/*.csv "$bundle"/*.json >/dev/null
    signal_rows=$(( $(cat "$bundle"/signals/*.csv | wc -l) - $(find "$bundle/signals" -name '*.csv' | wc -l) ))
    echo "==> [$label] bundle: $input_bytes bytes, $signal_rows signal rows"

    large=0; [ "$size" -ge 5000000 ] && large=1
    do_pack=0; do_verify=0
    if want pack; then do_pack=1; fi
    if want verify; then do_verify=1; fi
    if [ "$large" = 1 ] && [ "$LARGE_PACK" != 1 ] && [ $(( do_pack + do_verify )) -gt 0 ]; then
        echo "==> [$label] skipping pack and verify at this size (pass --large-pack to run them)"
        do_pack=0; do_verify=0
    fi

    if want nopack; then
        for t in "${thread_settings[@]}"; do
            echo "==> [$label] reconcile --no-pack${t:+ --threads $t}"
            d="$out_root/$(dir_name nopack "$t")"
            # shellcheck disable=SC2046 # tflag's output is meant to split
            measure "$size" "$(run_name nopack "$t")" "$d" -- "$CLI" reconcile "$bundle" --out "$d" --no-pack $(tflag "$t")
        done
        cmp_outputs "$size" nopack snapshot.json run_report.json exceptions.jsonl
    fi

    if [ "$do_pack" = 1 ]; then
        for t in "${thread_settings[@]}"; do
            echo "==> [$label] reconcile (with the pack)${t:+ --threads $t}"
            d="$out_root/$(dir_name pack "$t")"
            # shellcheck disable=SC2046
            measure "$size" "$(run_name pack "$t")" "$d" -- "$CLI" reconcile "$bundle" --out "$d" $(tflag "$t")
            pack_bytes=$(stat -c %s "$d/evidence.tar")
            note "$size" "$(run_name pack "$t")" "pack $(mb "$pack_bytes") ($pack_bytes bytes) = $(ratio "$pack_bytes" "$input_bytes") the input ($(mb "$input_bytes"))"
        done
        cmp_outputs "$size" pack snapshot.json run_report.json exceptions.jsonl evidence.tar
    fi

    # verify and chained use outputs of this invocation only (never a pack an
    # older binary left behind), written untimed when their run was not asked for.
    pack_dir="$out_root/$(dir_name pack "${thread_settings[0]}")"
    if [ "$do_verify" = 1 ]; then
        if [ "$do_pack" != 1 ]; then
            echo "==> [$label] writing a pack for verify (untimed)"
            rm -rf "$pack_dir"
            # shellcheck disable=SC2046
            "$CLI" reconcile "$bundle" --out "$pack_dir" $(tflag "${thread_settings[0]}") >/dev/null
        fi
        echo "==> [$label] verify $pack_dir/evidence.tar (with replay)"
        measure "$size" verify - -- "$CLI" verify "$pack_dir/evidence.tar"
        note "$size" verify "pack $(mb "$(stat -c %s "$pack_dir/evidence.tar")")"
    fi

    if want chained; then
        if [ "$do_pack" = 1 ] || [ "$do_verify" = 1 ]; then
            prev="$pack_dir/evidence.tar"; prev_kind="previous pack"
        else
            prev_dir="$out_root/$(dir_name nopack "${thread_settings[0]}")"
            if ! want nopack; then
                echo "==> [$label] writing a previous run for chained (untimed)"
                rm -rf "$prev_dir"
                # shellcheck disable=SC2046
                "$CLI" reconcile "$bundle" --out "$prev_dir" --no-pack $(tflag "${thread_settings[0]}") >/dev/null
            fi
            prev="$prev_dir/snapshot.json"; prev_kind="previous snapshot only"
        fi
        for t in "${thread_settings[@]}"; do
            echo "==> [$label] reconcile --previous $prev --no-pack${t:+ --threads $t}"
            d="$out_root/$(dir_name chained "$t")"
            # shellcheck disable=SC2046
            measure "$size" "$(run_name chained "$t")" "$d" -- "$CLI" reconcile "$bundle" --out "$d" --previous "$prev" --no-pack $(tflag "$t")
            note "$size" "$(run_name chained "$t")" "$prev_kind"
        done
        cmp_outputs "$size" chained snapshot.json run_report.json exceptions.jsonl
    fi

    if want duckdb; then
        for dt in $DUCKDB_THREADS; do
            echo "==> [$label] DuckDB $duckdb_version, simplified counters, threads=$dt"
            csv="$out_root/duckdb-t$dt.csv"
            measure "$size" "duckdb t$dt" - -- "$PY" benches/duckdb_counters.py "$bundle" "$csv" --threads "$dt"
            sed 's/^/    | /' "$work/last.out" "$work/last.err"
            read_rows=$(sed -n 's/^signal rows read: \([0-9]*\).*/\1/p' "$work/last.out")
            if [ "$read_rows" != "$signal_rows" ]; then
                die "DuckDB read $read_rows signal rows, the files hold $signal_rows"
            fi
            note "$size" "duckdb t$dt" "$read_rows signal rows read, $(( $(wc -l <"$csv") - 1 )) SKU rows; start + import $duckdb_start s included"
            # The simplification's size, in one number: total consumed against the engine's.
            dd_consumed=$(sed -n 's/^totals: .*consumed \([0-9]*\),.*/\1/p' "$work/last.out")
            snap="$out_root/$(dir_name nopack "${thread_settings[0]}")/snapshot.json"
            if want nopack && [ -f "$snap" ]; then
                ours_consumed=$(grep -o '"totals":{[^}]*}' "$snap" | grep -o '"consumed":[0-9]*' | cut -d: -f2)
                note "$size" "duckdb t$dt" "consumed $dd_consumed (engine $ours_consumed)"
            else
                note "$size" "duckdb t$dt" "consumed $dd_consumed"
            fi
        done
    fi
done

# ---------------------------------------------------------------- report
echo
echo "==> results: $RUNS run(s) each, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), CLI $CLI${built_from:-}"
echo
echo "| run | size | median wall | min wall | median user CPU | peak RSS (median) | notes |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for key in "${rows[@]}"; do
    size=${key%%|*}; run=${key#*|}
    case "$run" in
        nopack*) cmd="\`reconcile --no-pack\`" ;;
        pack*) cmd="\`reconcile\` with the pack" ;;
        verify) cmd="\`verify\` with replay" ;;
        chained*) cmd="\`reconcile --previous … --no-pack\`" ;;
        duckdb*) cmd="DuckDB, simplified counters" ;;
    esac
    case "$run" in
        *" t"*) cmd="$cmd, threads ${run##* t}" ;;
    esac
    printf '| %s | %s | %s s | %s s | %s s | %s | %s |\n' "$cmd" "$(label_of "$size")" \
        "${r_wall_med[$key]}" "${r_wall_min[$key]}" "${r_user_med[$key]}" "$(mib "${r_rss_med[$key]}")" "${r_note[$key]}"
done

echo
echo "Ratios (median wall, then median user CPU):"
base_t="${thread_settings[0]}"
one_t=""; for t in $THREADS; do [ "$t" = 1 ] && one_t=1; done
if [ -n "$THREADS" ] && [ -z "$one_t" ]; then one_t="$base_t"; fi
both() { # both KEY_A KEY_B LABEL
    if [ -n "${r_wall_med[$1]:-}" ] && [ -n "${r_wall_med[$2]:-}" ]; then
        echo "  $3: $(ratio "${r_wall_med[$1]}" "${r_wall_med[$2]}") ($(ratio "${r_user_med[$1]}" "${r_user_med[$2]}") CPU)"
    fi
}
for size in "${sizes[@]}"; do
    label=$(label_of "$size")
    both "$size|$(run_name nopack "$one_t")" "$size|duckdb t1" "[$label] ours ($(run_name nopack "$one_t")) / DuckDB one thread"
    both "$size|$(run_name pack "$base_t")" "$size|$(run_name nopack "$base_t")" "[$label] pack run / no-pack run"
    both "$size|verify" "$size|$(run_name nopack "$base_t")" "[$label] verify / no-pack run"
    both "$size|$(run_name chained "$base_t")" "$size|$(run_name nopack "$base_t")" "[$label] chained / no-pack run"
    if [ -n "${r_rss_med["$size|$(run_name chained "$base_t")"]:-}" ] && [ -n "${r_rss_med["$size|$(run_name nopack "$base_t")"]:-}" ]; then
        echo "  [$label] chained / no-pack peak RSS: $(ratio "${r_rss_med["$size|$(run_name chained "$base_t")"]}" "${r_rss_med["$size|$(run_name nopack "$base_t")"]}")"
    fi
    for t in $THREADS; do
        [ "$t" = "$base_t" ] && continue
        both "$size|$(run_name nopack "$base_t")" "$size|$(run_name nopack "$t")" "[$label] speed-up of --threads $t over --threads $base_t (no pack)"
    done
    for dt in $DUCKDB_THREADS; do
        [ "$dt" = 1 ] && continue
        both "$size|duckdb t1" "$size|duckdb t$dt" "[$label] DuckDB speed-up, threads=$dt over 1"
    done
done
if [ ${#sizes[@]} -gt 1 ]; then
    small=${sizes[0]}
    for size in "${sizes[@]:1}"; do
        both "$size|$(run_name nopack "$base_t")" "$small|$(run_name nopack "$base_t")" \
            "$(label_of "$size") / $(label_of "$small") cost, no pack ($(( size / small ))× the signals)"
        both "$size|duckdb t1" "$small|duckdb t1" "$(label_of "$size") / $(label_of "$small") cost, DuckDB one thread"
    done
fi
if [ "$(wc -w <<<"$THREADS")" -gt 1 ]; then
    if [ "$failed_cmp" = 1 ]; then
        echo "==> outputs DIFFER between thread counts (see above)" >&2
        exit 1
    fi
    echo "==> outputs byte-identical for --threads ${THREADS// /, } in every compared run"
fi

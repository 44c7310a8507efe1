#!/usr/bin/env bash
# Reconcile a generated workload with the release CLI; print wall time and max RSS.
#
#   benches/run-cli.sh                       # 1 M signals into target/bench-1m
#   SIGNALS=10000000 benches/run-cli.sh      # the 10 M reference workload (target/bench-10m)
#   benches/run-cli.sh --signals 10M --devices 1M --users 300k --skus 2000
#
# Sizes (flags win over environment variables):
#   --signals / SIGNALS   total signal rows      (default 1000000)
#   --devices / DEVICES   devices                (default: signals / 5, at most 1000000)
#   --users   / USERS     users                  (default: devices * 3 / 10)
#   --skus    / SKUS      catalog SKUs           (default: 500, 2000 from 5 M signals up)
#   --seed    / SEED      generator seed         (default 1)
#   --dir     / BENCH_DIR bundle directory       (default target/bench-<size>, e.g. bench-1m)
#   --regen   / REGEN=1   regenerate even if the bundle directory exists
#
# The bundle is generated only when its directory is absent (or --regen). The
# reconciliation output goes to <dir>-out. Needs GNU time (/usr/bin/time):
# `apt-get install -y time`. For medians over several runs, the pack, verify,
# --threads and the DuckDB comparison (issue 15), use benches/compare.sh.
set -euo pipefail

cd "$(dirname "$0")/.."

SIGNALS="${SIGNALS:-1000000}"
DEVICES="${DEVICES:-}"
USERS="${USERS:-}"
SKUS="${SKUS:-}"
SEED="${SEED:-1}"
BENCH_DIR="${BENCH_DIR:-}"
REGEN="${REGEN:-0}"
TARGET="${CARGO_TARGET_DIR:-target}"

while [ $# -gt 0 ]; do
    case "$1" in
        --signals) SIGNALS="$2"; shift 2 ;;
        --devices) DEVICES="$2"; shift 2 ;;
        --users) USERS="$2"; shift 2 ;;
        --skus) SKUS="$2"; shift 2 ;;
        --seed) SEED="$2"; shift 2 ;;
        --dir) BENCH_DIR="$2"; shift 2 ;;
        --regen) REGEN=1; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run-cli.sh: unknown argument '$1' (try --help)" >&2; exit 1 ;;
    esac
done

# Accept 10M / 300k / 1_000_000 (`num`).
source benches/sizes.sh
SIGNALS=$(num "$SIGNALS")
if [ -z "$DEVICES" ]; then
    DEVICES=$(( SIGNALS / 5 )); [ "$DEVICES" -gt 1000000 ] && DEVICES=1000000; [ "$DEVICES" -lt 1 ] && DEVICES=1
else
    DEVICES=$(num "$DEVICES")
fi
if [ -z "$USERS" ]; then
    USERS=$(( DEVICES * 3 / 10 )); [ "$USERS" -lt 1 ] && USERS=1
else
    USERS=$(num "$USERS")
fi
if [ -z "$SKUS" ]; then
    if [ "$SIGNALS" -ge 5000000 ]; then SKUS=2000; else SKUS=500; fi
else
    SKUS=$(num "$SKUS")
fi
if [ -z "$BENCH_DIR" ]; then
    if [ $(( SIGNALS % 1000000 )) -eq 0 ]; then label="$(( SIGNALS / 1000000 ))m"
    elif [ $(( SIGNALS % 1000 )) -eq 0 ]; then label="$(( SIGNALS / 1000 ))k"
    else label="$SIGNALS"; fi
    BENCH_DIR="target/bench-$label"
fi
OUT_DIR="${BENCH_DIR%/}-out"

if [ ! -x /usr/bin/time ] || ! /usr/bin/time -v true >/dev/null 2>&1; then
    echo "run-cli.sh: GNU time not found at /usr/bin/time; install it with: apt-get install -y time" >&2
    exit 1
fi

echo "==> building release binaries"
cargo build --release -q -p eucora-license-cli -p eucora-license-benches

if [ "$REGEN" = 1 ] || [ ! -f "$BENCH_DIR/bundle.json" ]; then
    echo "==> generating $SIGNALS signals ($DEVICES devices, $USERS users, $SKUS SKUs, seed $SEED) into $BENCH_DIR"
    rm -rf "$BENCH_DIR"
    /usr/bin/time -f "    generated in %e s (max RSS %M KiB)" \
        "$TARGET/release/gen-workload" --out "$BENCH_DIR" --signals "$SIGNALS" \
        --devices "$DEVICES" --users "$USERS" --skus "$SKUS" --seed "$SEED"
else
    echo "==> reusing $BENCH_DIR (delete it or pass --regen to regenerate)"
fi
du -sh "$BENCH_DIR" | sed 's/^/    bundle size: /'

echo "==> eucora-license reconcile $BENCH_DIR --out $OUT_DIR"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
/usr/bin/time -v -o "$log" "$TARGET/release/eucora-license" reconcile "$BENCH_DIR" --out "$OUT_DIR" > "$OUT_DIR.txt"
status=$?
set -e
tail -n 12 "$OUT_DIR.txt"
echo "    (full table: $OUT_DIR.txt)"
echo "==> exit status $status"
wall=$(sed -n 's/^[[:space:]]*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log")
rss=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$log")
user=$(sed -n 's/^[[:space:]]*User time (seconds): //p' "$log")
sys=$(sed -n 's/^[[:space:]]*System time (seconds): //p' "$log")
echo "    wall time:   $wall"
echo "    cpu time:    ${user}s user, ${sys}s system"
echo "    max RSS:     $rss KiB ($(( rss / 1024 )) MiB)"
exit "$status"

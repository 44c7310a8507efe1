#!/usr/bin/env bash
# Binding overhead: the same generated workload reconciled by the release CLI
# and through the Python module (eucora_license, the wheel scripts/test builds
# into target/py-venv), interleaved, RUNS times each. Both write the same
# outputs (snapshot.json, run_report.json, exceptions.jsonl; evidence.tar with
# PACK=1), and the two snapshots are checked to be identical.
#
#   benches/run-python.sh                 # target/bench-1m, no pack, 3 runs each
#   PACK=1 RUNS=2 benches/run-python.sh   # with the evidence pack
#   THREADS=1 benches/run-python.sh       # both on one thread (default: every core)
#
# Needs GNU time (/usr/bin/time) and the venv of scripts/test-python.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_DIR="${BENCH_DIR:-target/bench-1m}"
RUNS="${RUNS:-3}"
PACK="${PACK:-0}"
PY="${PY:-target/py-venv/bin/python}"
THREADS="${THREADS:-$(nproc)}"
TARGET="${CARGO_TARGET_DIR:-target}"

cargo build --release -q --locked -p eucora-license-cli -p eucora-license-benches
if [ ! -f "$BENCH_DIR/bundle.json" ]; then
    echo "==> generating the 1 M-signal workload into $BENCH_DIR"
    "$TARGET/release/gen-workload" --out "$BENCH_DIR"
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if [ "$PACK" = 1 ]; then cli_flags=(); py_pack=True; else cli_flags=(--no-pack); py_pack=False; fi

for i in $(seq "$RUNS"); do
    /usr/bin/time -f "cli     run $i: %e s wall, %U s user, %M KB max RSS" \
        "$TARGET/release/eucora-license" reconcile "$BENCH_DIR" --out "$out/cli" --threads "$THREADS" "${cli_flags[@]}" >/dev/null
    /usr/bin/time -f "python  run $i: %e s wall, %U s user, %M KB max RSS" \
        "$PY" -c "import sys, eucora_license as el; t = int(sys.argv[3]); el.reconcile(sys.argv[1], threads=t, keep_units=$py_pack).write(sys.argv[2], pack=$py_pack, threads=t)" \
        "$BENCH_DIR" "$out/py" "$THREADS"
done
cmp "$out/cli/snapshot.json" "$out/py/snapshot.json"
cmp "$out/cli/run_report.json" "$out/py/run_report.json"
if [ "$PACK" = 1 ]; then cmp "$out/cli/evidence.tar" "$out/py/evidence.tar"; fi
echo "outputs identical: $(grep -o '"snapshot_hash":"[^"]*"' "$out/cli/snapshot.json")"

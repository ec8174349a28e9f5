#!/usr/bin/env bash
# Runs store_bench (engine/store/sqlite): group commit vs one transaction per
# event, and the 0..10M-event history curve. Writes a Markdown report to
# bench/results/store-<stamp>.md. The fixture (several GB at 10M events) is
# built under STORE_BENCH_DIR (default BUILD_DIR/store-bench-data) and removed
# afterwards unless STORE_BENCH_KEEP=1.
#
#   bench/run-store-bench.sh [BUILD_DIR] [store_bench options...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${1:-build-bench}"
shift || true
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
BIN="$BUILD_DIR/bench/store_bench"
if [[ ! -x "$BIN" ]]; then
  echo "run-store-bench.sh: $BIN not built; skipped" >&2
  exit 0
fi
DATA="${STORE_BENCH_DIR:-$BUILD_DIR/store-bench-data}"
RESULTS_DIR="${RESULTS_DIR:-$ROOT/bench/results}"
mkdir -p "$RESULTS_DIR" "$DATA"
out="$RESULTS_DIR/store-$(date -u +%Y%m%dT%H%M%SZ).md"
{
  echo "machine: nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg), disk: $(df -h "$DATA" | tail -1)"
  "$BIN" --dir "$DATA" "$@"
} | tee "$out"
[[ "${STORE_BENCH_KEEP:-0}" == 1 ]] || rm -rf "$DATA"
echo "== report in ${out#"$ROOT"/}"

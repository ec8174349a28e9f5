#!/usr/bin/env bash
# Audit log benchmarks (bench/audit_bench.cc): proofs at 1,000,000 leaves and
# `audit verify` throughput, each repeated REPS times; prints the aggregates
# (median first) and keeps the JSON under bench/results/audit-<stamp>.json.
#
#   bench/run-audit-bench.sh [BUILD_DIR]        (default: build-bench)
#
# The first run builds a 1,000,000-leaf SQLite fixture (about 1.2 GB, a few
# minutes) in $APPROVAL_BENCH_DIR (default /tmp/approvald-bench); later runs
# reuse it. Delete that directory to rebuild it.
#
# Environment:
#   REPS=5          repetitions of every benchmark (medians need at least 5)
#   FILTER=.        Google Benchmark filter regex (e.g. FILTER=Memory)
#   RESULTS_DIR     where to write (default: bench/results)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${1:-build-bench}"
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
REPS="${REPS:-5}"
FILTER="${FILTER:-.}"
RESULTS_DIR="${RESULTS_DIR:-$ROOT/bench/results}"
BIN="$BUILD_DIR/bench/audit_bench"

die() { echo "run-audit-bench: $*" >&2; exit 1; }
[[ -x "$BIN" ]] || die "no $BIN: build it first (make bench, or
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DAPPROVAL_BUILD_TESTS=OFF &&
  cmake --build build-bench --target audit_bench)"
build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null || true)"
[[ "$build_type" == "Release" ]] || die "$BUILD_DIR is a '$build_type' build; benchmarks need CMAKE_BUILD_TYPE=Release"
[[ "$REPS" =~ ^[0-9]+$ && "$REPS" -ge 1 ]] || die "REPS must be a positive integer, got '$REPS'"

mkdir -p "$RESULTS_DIR"
out="$RESULTS_DIR/audit-$(date -u +%Y%m%dT%H%M%SZ).json"
echo "== machine: nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"
"$BIN" --benchmark_filter="$FILTER" --benchmark_repetitions="$REPS" \
  --benchmark_report_aggregates_only=true \
  --benchmark_out_format=json --benchmark_out="$out"
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== JSON in ${out#"$ROOT"/}"

#!/usr/bin/env bash
# Runs the load and soak test (tests/soak/soak_test.cc) for SOAK_SECONDS
# (default 300) against a Release build of approvald, and keeps the report
# (throughput, p50/p99 per request kind, the RSS curve) in
# bench/results/soak-<date>.txt.
#   usage: scripts/soak.sh [BUILD_DIR]     (default build-soak)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build-soak}"
seconds="${SOAK_SECONDS:-300}"
jobs="${JOBS:-$(nproc)}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DAPPROVAL_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --target approvald approval_soak_tests --parallel "$jobs"
mkdir -p bench/results
report="bench/results/soak-$(date -u +%Y%m%dT%H%M%SZ).txt"
echo "soak: ${seconds} s; report in ${report}"
SOAK_SECONDS="$seconds" SOAK_REPORT="$report" \
  "$build/tests/soak/approval_soak_tests" --gtest_color=no
{ echo; echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"; } >> "$report"
cat "$report"

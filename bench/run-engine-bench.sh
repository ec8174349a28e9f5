#!/usr/bin/env bash
# Engine vs XState on the dual-line expense reimbursement, in one run.
#
#   bench/run-engine-bench.sh [BUILD_DIR]        (default: build-bench)
#
# Builds nothing: BUILD_DIR must hold bench/engine_bench from a Release
# configure (`make bench` does both). Installs the XState side from its lock
# file (npm ci in bench/xstate/), then runs the two benchmarks REPS times
# each, alternating and swapping which goes first every round so that drift
# in the machine's load hits both alike. Prints the medians and the ratio and
# keeps every raw result under bench/results/engine-<stamp>/ (gitignored).
#
# Environment:
#   REPS=5        rounds (each runs both sides once); at least 5 for the report
#   MIN_TIME=1.0  seconds each benchmark runs per round (after warm-up)
#   MIX=all       mixed | small | large | all (the headline is `mixed`)
#   RESULTS_DIR   where to write (default: bench/results)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${1:-build-bench}"
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
REPS="${REPS:-5}"
MIN_TIME="${MIN_TIME:-1.0}"
MIX="${MIX:-all}"
RESULTS_DIR="${RESULTS_DIR:-$ROOT/bench/results}"

ENGINE="$BUILD_DIR/bench/engine_bench"
XSTATE_DIR="$ROOT/bench/xstate"

die() { echo "run-engine-bench: $*" >&2; exit 1; }

[[ -x "$ENGINE" ]] || die "no $ENGINE: build it first (make bench, or
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DAPPROVAL_BUILD_TESTS=OFF &&
  cmake --build build-bench --target engine_bench)"
build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null || true)"
[[ "$build_type" == "Release" ]] || die "$BUILD_DIR is a '$build_type' build; benchmarks need CMAKE_BUILD_TYPE=Release"
command -v node >/dev/null || die "node is not installed (scripts/install-deps.sh installs it)"
command -v npm >/dev/null || die "npm is not installed (scripts/install-deps.sh installs it)"
[[ "$REPS" =~ ^[0-9]+$ && "$REPS" -ge 1 ]] || die "REPS must be a positive integer, got '$REPS'"
case "$MIX" in mixed|small|large|all) ;; *) die "MIX must be mixed, small, large or all, got '$MIX'" ;; esac

case "$MIX" in
  all) engine_filter='BM_ExpenseDualLine/(mixed|small|large)' ;;
  *) engine_filter="BM_ExpenseDualLine/$MIX" ;;
esac

echo "== installing the XState side from its lock file (npm ci)"
(cd "$XSTATE_DIR" && npm ci --no-audit --no-fund --loglevel=error) >&2

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
out="$RESULTS_DIR/engine-$stamp"
mkdir -p "$out"

# The machine as it was when the run started (and its load when it ended).
cpu_model="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

engine_files=()
xstate_files=()
run_engine() {
  local f="$out/engine-$1.json"
  APPROVAL_ROOT="$ROOT" "$ENGINE" --benchmark_filter="$engine_filter" \
    --benchmark_min_time="$MIN_TIME" --benchmark_format=json --benchmark_out_format=json \
    --benchmark_out="$f" >/dev/null
  engine_files+=("$f")
}
run_xstate() {
  local f="$out/xstate-$1.jsonl"
  (cd "$XSTATE_DIR" && APPROVAL_ROOT="$ROOT" node run.mjs --mix="$MIX" --min-time="$MIN_TIME" --warmup=0.5) >"$f"
  xstate_files+=("$f")
}

for ((i = 1; i <= REPS; i++)); do
  echo "== round $i/$REPS (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  if ((i % 2)); then run_engine "$i"; run_xstate "$i"; else run_xstate "$i"; run_engine "$i"; fi
done

load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
cat >"$out/machine.json" <<EOF
{
  "date_utc": "$stamp",
  "nproc": $(nproc),
  "cpu": "${cpu_model//\"/\\\"}",
  "loadavg_before": "$load_before",
  "loadavg_after": "$load_after",
  "kernel": "$(uname -sr)",
  "compiler": "$(${CXX:-c++} --version 2>/dev/null | head -1 | sed 's/"/\\"/g')",
  "build_type": "$build_type",
  "node": "$(node --version)",
  "reps": $REPS,
  "min_time_s": $MIN_TIME
}
EOF

echo "== $REPS rounds, alternating; nproc $(nproc), load before $load_before, after $load_after"
node "$XSTATE_DIR/summarize.mjs" "$out/summary.json" "$out/machine.json" \
  "${engine_files[@]}" -- "${xstate_files[@]}" | tee "$out/summary.txt"
echo "== raw results and summary.json in ${out#"$ROOT"/}"

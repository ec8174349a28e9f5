#!/usr/bin/env bash
# Runs every benchmark that was built, one after the other (never two at once:
# they would measure each other), and keeps the results under bench/results/
# (gitignored). `make bench` configures and builds BUILD_DIR in Release first.
#
#   bench/run.sh [BUILD_DIR]        (default: build-bench)
#
# What runs:
#   1. every bench/run-*-bench.sh script (each takes BUILD_DIR; a script owns
#      the binaries it names, e.g. run-engine-bench.sh runs engine_bench and
#      the XState comparison);
#   2. every other executable in BUILD_DIR/bench/, as a plain Google
#      Benchmark binary: JSON in bench/results/<name>-<stamp>.json, the
#      console table on stdout.
# A benchmark whose binary is missing is skipped with a note; the exit status
# is non-zero if any benchmark that ran failed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${1:-build-bench}"
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
RESULTS_DIR="${RESULTS_DIR:-$ROOT/bench/results}"
export RESULTS_DIR

if [[ ! -d "$BUILD_DIR/bench" ]]; then
  echo "bench/run.sh: no $BUILD_DIR/bench: configure and build first (make bench)" >&2
  exit 1
fi
mkdir -p "$RESULTS_DIR"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
failed=()
ran=0

echo "== machine: nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. Scripts, in name order. Remember which binaries they cover.
claimed=" "
for script in "$ROOT"/bench/run-*-bench.sh; do
  [[ -f "$script" ]] || continue
  name="$(basename "$script")"
  for bin in "$BUILD_DIR"/bench/*; do
    [[ -f "$bin" && -x "$bin" ]] || continue
    b="$(basename "$bin")"
    grep -qw -- "$b" "$script" && claimed+="$b "
  done
  echo
  echo "==== $name"
  if bash "$script" "$BUILD_DIR"; then ran=$((ran + 1)); else failed+=("$name"); fi
done

# 2. Binaries no script covers.
for bin in "$BUILD_DIR"/bench/*; do
  [[ -f "$bin" && -x "$bin" ]] || continue
  b="$(basename "$bin")"
  [[ "$claimed" == *" $b "* ]] && continue
  echo
  echo "==== $b"
  if (cd "$ROOT" && APPROVAL_ROOT="$ROOT" "$bin" --benchmark_out_format=json \
        --benchmark_out="$RESULTS_DIR/$b-$stamp.json"); then
    ran=$((ran + 1))
    echo "== JSON in ${RESULTS_DIR#"$ROOT"/}/$b-$stamp.json"
  else
    failed+=("$b")
  fi
done

echo
if ((ran == 0 && ${#failed[@]} == 0)); then
  echo "bench/run.sh: no benchmark binaries in $BUILD_DIR/bench (build them first: make bench)" >&2
  exit 1
fi
if ((${#failed[@]})); then
  echo "bench/run.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "== $ran benchmark(s) done; results under ${RESULTS_DIR#"$ROOT"/}"

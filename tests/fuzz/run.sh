#!/usr/bin/env bash
# Runs the libFuzzer targets one after the other, each for a set time.
# Usage: tests/fuzz/run.sh BUILD_DIR SECONDS_PER_TARGET [TARGET...]
#   BUILD_DIR  a build configured with -DAPPROVAL_FUZZ=ON (make fuzz does it)
#   TARGET     workflow_loader expr json_request http_request audit_bundle
#              (default: all)
#
# Each target starts from its committed seed corpus (tests/fuzz/corpus/<t>/,
# read only) plus what earlier runs found (BUILD_DIR/fuzz/<t>/corpus/, where
# new inputs go). A crash leaves its input in BUILD_DIR/fuzz/<t>/ (crash-*,
# leak-*, timeout-*, oom-*) and makes the script exit 1 after the other
# targets ran; fix the bug, then commit the input as
# tests/fuzz/corpus/<t>/regress-<what> so ctest replays it from then on.
# A summary line per target (time, executions, coverage, result) is printed
# at the end and appended to BUILD_DIR/fuzz/history.tsv.
set -uo pipefail

if (($# < 2)); then
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
build=$(realpath "$1")
seconds=$2
shift 2
targets=("$@")
((${#targets[@]})) || targets=(workflow_loader expr json_request http_request audit_bundle)
src=$(cd "$(dirname "$0")" && pwd)

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
sym=$(command -v llvm-symbolizer-19 || command -v llvm-symbolizer || true)
[[ -n "$sym" ]] && export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$sym}

mkdir -p "$build/fuzz"
history=$build/fuzz/history.tsv
[[ -f "$history" ]] || printf 'date\ttarget\tseconds\texecs\tcoverage\tcorpus\tresult\n' >"$history"
summary=()
failed=0
for t in "${targets[@]}"; do
  bin=$build/tests/fuzz/fuzz_$t
  if [[ ! -x "$bin" ]]; then
    echo "fuzz: $bin is missing (build the fuzz_all target of a -DAPPROVAL_FUZZ=ON build)" >&2
    exit 2
  fi
  work=$build/fuzz/$t
  mkdir -p "$work/corpus"
  log=$work/last.log
  echo "fuzz: $t for ${seconds}s"
  start=$(date +%s)
  # -timeout: one input taking longer is a finding (hostile input must stay
  # cheap; inputs take milliseconds, 30 s leaves room for a loaded machine,
  # where 10 s gave false alarms); -rss_limit_mb bounds memory; -max_len leaves room for the
  # largest seeds (workflow files, bundles).
  "$bin" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$work/" \
    "$work/corpus" "$src/corpus/$t" >"$log" 2>&1
  rc=$?
  elapsed=$(($(date +%s) - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  files=$(find "$work/corpus" -type f | wc -l)
  if ((rc == 0)); then
    result=ok
  else
    result="FAILED (exit $rc)"
    failed=1
    echo "fuzz: $t failed; the end of $log:" >&2
    tail -n 60 "$log" >&2
    ls -1 "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null >&2
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$elapsed" "${execs:-?}" \
    "${cov:-?}" "$files" "$result" >>"$history"
  summary+=("$(printf '%-16s %5ss %10s execs  cov %-6s new corpus %-5s %s' "$t" "$elapsed" \
    "${execs:-?}" "${cov:-?}" "$files" "$result")")
done
echo "fuzz summary:"
printf '  %s\n' "${summary[@]}"
exit "$failed"

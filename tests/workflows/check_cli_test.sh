#!/bin/sh
# `approvald check` from the source root: the shipped workflows pass (exit 0),
# the broken ones fail (exit 1) and every error line of their .expected files
# appears in the output. Lines about unknown checks list the built-in checks,
# which grow with the domain work, so they are compared up to the list.
# Usage: check_cli_test.sh path/to/approvald   (run from the source root)
set -u
bin=$1
fail=0

out=$("$bin" check workflows --org config/org.yaml 2>&1)
rc=$?
if [ $rc -ne 0 ]; then
  echo "$out"
  echo "FAIL: approvald check workflows exited $rc, want 0"
  fail=1
fi

out=$("$bin" check tests/workflows/invalid --org config/org.yaml 2>&1)
rc=$?
if [ $rc -ne 1 ]; then
  echo "$out"
  echo "FAIL: approvald check tests/workflows/invalid exited $rc, want 1"
  fail=1
fi
for expected in tests/workflows/invalid/*.expected; do
  while IFS= read -r line; do
    [ -z "$line" ] && continue
    case "$line" in
      *"unknown check"*) want=${line%% — *} ;;
      *) want=$line ;;
    esac
    if ! printf '%s\n' "$out" | grep -F -q -- "$want"; then
      echo "FAIL: missing from the output: $want"
      fail=1
    fi
  done < "$expected"
done
[ $fail -eq 0 ] && echo "ok: approvald check passes workflows/ and reports every expected error"
exit $fail

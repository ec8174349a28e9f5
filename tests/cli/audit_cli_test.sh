#!/usr/bin/env bash
# End-to-end test of `approvald audit ...` and `approvald backup` (issue 3).
# Usage (from the source root): audit_cli_test.sh path/to/approvald path/to/populate
#
#  1. populate a data dir through the engine (no HTTP server) and sign checkpoints
#  2. `audit verify` passes (exit 0), also with the published verifier key and
#     with 1 or 3 reading threads (--read-threads; 0 is a usage error)
#  3. `backup`, then `audit verify` on a data dir holding only the copy + key
#  4. `audit export` + `audit verify-bundle` (+ scripts/verify-bundle.py when
#     python3 and openssl exist); a tampered bundle fails both
#  5. copies tampered with the sqlite3 shell (triggers dropped first): one byte
#     of one event, a deleted audit row, a deleted event row, two swapped
#     rows: `audit verify` exits 1 and names the event
#  6. usage errors exit 2
# Any unexpected result fails the test; the temp dir is always removed.
set -euo pipefail

bin=$(realpath "$1")
populate=$(realpath "$2")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/approvald-cli-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
# expect WANT_RC CMD...: runs CMD, keeps its output in $out, checks the status.
expect() {
  local want=$1; shift
  set +e
  out=$("$@" 2>&1)
  local rc=$?
  set -e
  if [ "$rc" -ne "$want" ]; then
    printf '%s\n' "$out" >&2
    fail "'$*' exited $rc, want $want"
  fi
}
# contains TEXT: the last command's output contains TEXT.
contains() {
  case "$out" in
    *"$1"*) ;;
    *) printf '%s\n' "$out" >&2; fail "output lacks '$1'" ;;
  esac
}
sql() { sqlite3 -bail "$1" "$2"; }

command -v sqlite3 >/dev/null || fail "the sqlite3 shell is needed (apt-get install sqlite3)"

# 1. Populate.
data=$tmp/data
expect 0 "$populate" "$data" config/org.yaml workflows 3
contains "instances=3"
echo "populate: $out"
[ "$(stat -c %a "$data/audit_ed25519.pem")" = 600 ] || fail "key file mode is not 0600"
leaves=$(sql "$data/approvald.db" "SELECT count(*) FROM audit_log")
[ "$leaves" -gt 10 ] || fail "only $leaves audit leaves after populate"

# 2. Verify.
expect 0 "$bin" audit verify --data-dir "$data"
contains "ok"
contains "sqlite quick_check: ok"
echo "verify: $out"
# Every workflow definition the bootstrap stored is the exact text of its
# file, hashed: stored hash = SHA-256 of the stored source = SHA-256 of the
# file (workflows/expense.yaml is the one the populated instances run on),
# and every event's definition hash names a stored definition.
defs=$(sql "$data/approvald.db" "SELECT count(*) FROM definitions")
[ "$defs" -ge 1 ] || fail "no workflow definitions stored"
case "$out" in *" $defs definitions verified"*) ;; *) fail "verify did not check the $defs definitions: $out" ;; esac
expect 2 "$bin" audit verify --data-dir "$data" --sqlite-check sometimes
# --read-threads: any count of reading threads gives the same verdict.
for n in 1 3; do
  expect 0 "$bin" audit verify --data-dir "$data" --read-threads "$n" --sqlite-check none
  contains "ok: "
  contains " $defs definitions verified"
done
expect 2 "$bin" audit verify --data-dir "$data" --read-threads 0
contains "--read-threads"
expect 2 "$bin" audit verify --data-dir "$data" --read-threads many
contains "--read-threads"
expect 0 "$bin" audit verify --data-dir "$data" --sqlite-check full
contains "sqlite integrity_check: ok"
file_hash="sha256:$(sha256sum workflows/expense.yaml | cut -d' ' -f1)"
[ "$(sql "$data/approvald.db" "SELECT hash FROM definitions WHERE workflow = 'expense'")" = "$file_hash" ] ||
  fail "the stored expense definition's hash is not the SHA-256 of workflows/expense.yaml"
sql "$data/approvald.db" "SELECT workflow || ' ' || version, hash, writefile('$tmp/def-' || workflow || '-' || version, source) FROM definitions" |
while IFS='|' read -r name hash _; do
  set -- $name
  got="sha256:$(sha256sum "$tmp/def-$1-$2" | cut -d' ' -f1)"
  [ "$got" = "$hash" ] || fail "definition $name is stored under $hash but its text hashes to $got"
done
[ "$(sql "$data/approvald.db" "SELECT count(*) FROM audit_log a WHERE a.kind = 'event' AND NOT EXISTS
      (SELECT 1 FROM definitions d WHERE d.hash = a.def_hash)")" = 0 ] ||
  fail "some event cites a definition hash that is not stored"
expect 0 "$bin" audit key --data-dir "$data" --pem
vk=$(printf '%s\n' "$out" | head -n 1)
case "$vk" in approvald/local+*) ;; *) fail "audit key printed '$vk'" ;; esac
contains "BEGIN PUBLIC KEY"
printf '%s\n' "$vk" > "$tmp/verifier.key"
expect 0 "$bin" audit verify --data-dir "$data" --key "$tmp/verifier.key"
# Another log's key: every checkpoint signature fails.
openssl genpkey -algorithm ed25519 -out "$tmp/other.pem" 2>/dev/null
expect 1 "$bin" audit verify --data-dir "$data" --key "$tmp/other.pem"
contains "checkpoint_signature"
# The right key under another origin does not verify either.
expect 1 "$bin" audit verify --data-dir "$data" --origin approvald/elsewhere
contains "checkpoint_signature"

# 3. Backup and restore.
expect 0 "$bin" backup --data-dir "$data" --to "$tmp/backup.db"
contains "written to"
restored=$tmp/restored
mkdir "$restored"
cp "$tmp/backup.db" "$restored/approvald.db"
cp -p "$data/audit_ed25519.pem" "$restored/"
expect 0 "$bin" audit verify --data-dir "$restored"
[ "$(sql "$restored/approvald.db" "SELECT count(*) FROM audit_log")" = "$leaves" ] ||
  fail "the backup does not hold all $leaves leaves"
[ "$(sql "$restored/approvald.db" "SELECT count(*), max(version) FROM instances")" = \
  "$(sql "$data/approvald.db" "SELECT count(*), max(version) FROM instances")" ] ||
  fail "the backup does not hold every instance"
expect 0 "$bin" backup --help
contains "Restore:"

# 4. Export and verify the bundle.
bundle=$tmp/bundle.jsonl
expect 0 "$bin" audit export --data-dir "$data" --from 2000-01-01T00:00:00Z \
  --to 2100-01-01T00:00:00+08:00 --out "$bundle"
contains "exported $leaves leaves"
expect 0 "$bin" audit verify-bundle "$bundle" --trust "$tmp/verifier.key"
echo "verify-bundle: $out"
expect 0 "$bin" audit verify-bundle "$bundle"
contains "$vk"
openssl pkey -in "$tmp/other.pem" -pubout -out "$tmp/other.pub" 2>/dev/null
expect 1 "$bin" audit verify-bundle "$bundle" --trust "$tmp/other.pub"
# One changed byte in a leaf line: the first digit of the event's time.
sed '3s/\\"at\\":1/\\"at\\":2/' "$bundle" > "$tmp/bad-bundle.jsonl"
cmp -s "$bundle" "$tmp/bad-bundle.jsonl" && fail "the bundle was not changed"
expect 1 "$bin" audit verify-bundle "$tmp/bad-bundle.jsonl" --trust "$tmp/verifier.key"
if command -v python3 >/dev/null && command -v openssl >/dev/null; then
  expect 0 python3 scripts/verify-bundle.py "$bundle" --key "$vk"
  echo "verify-bundle.py: $(printf '%s\n' "$out" | tail -n 1)"
  expect 1 python3 scripts/verify-bundle.py "$tmp/bad-bundle.jsonl" --key "$vk"
else
  echo "skipped scripts/verify-bundle.py: python3 or openssl missing"
fi

# 5. Tampering behind the triggers' back, each on its own copy.
# copy NAME: a copy of the data dir with the append-only triggers dropped.
copy() {
  local dir=$tmp/$1
  mkdir "$dir"
  cp "$tmp/backup.db" "$dir/approvald.db"
  cp -p "$data/audit_ed25519.pem" "$dir/"
  local triggers
  triggers=$(sql "$dir/approvald.db" "SELECT name FROM sqlite_master WHERE type = 'trigger'")
  [ -n "$triggers" ] || fail "no triggers in the schema"
  for t in $triggers; do sql "$dir/approvald.db" "DROP TRIGGER $t"; done
  echo "$dir"
}
leaf_of() {  # leaf_of DB INSTANCE VERSION -> leaf index
  sql "$1" "SELECT idx FROM audit_log WHERE instance = $2 AND version = $3"
}

# a) One byte of the stored event (instance 2, version 2), which its audit
# leaf holds: a digit in its time.
d=$(copy byte)
idx=$(leaf_of "$d/approvald.db" 2 2)
sql "$d/approvald.db" "UPDATE audit_log SET leaf_data = CAST(
    substr(CAST(leaf_data AS TEXT), 1, instr(CAST(leaf_data AS TEXT), '\"at\"') + 4) ||
    CASE substr(CAST(leaf_data AS TEXT), instr(CAST(leaf_data AS TEXT), '\"at\"') + 5, 1)
      WHEN '1' THEN '2' ELSE '1' END ||
    substr(CAST(leaf_data AS TEXT), instr(CAST(leaf_data AS TEXT), '\"at\"') + 6) AS BLOB)
  WHERE idx = $idx"
[ "$(sql "$d/approvald.db" "SELECT changes()")" ] || true
expect 1 "$bin" audit verify --data-dir "$d"
echo "tampered byte: $out"
contains "first bad leaf: $idx (event of instance 2 version 2)"
for n in 1 4; do
  expect 1 "$bin" audit verify --data-dir "$d" --read-threads "$n"
  contains "first bad leaf: $idx (event of instance 2 version 2)"
done

# b) A deleted audit row (the leaf of instance 1, version 3).
d=$(copy audit-row)
idx=$(leaf_of "$d/approvald.db" 1 3)
sql "$d/approvald.db" "DELETE FROM audit_log WHERE idx = $idx"
expect 1 "$bin" audit verify --data-dir "$d"
echo "deleted audit row: $out"
contains "leaf_missing"
contains "first bad leaf: $idx"

# c) An event row added to the events table, which takes none since schema
# migration 10 (each event is stored in its audit leaf).
d=$(copy event-row)
sql "$d/approvald.db" "INSERT INTO events VALUES (3, 99, 0, 'approved', 'x', '', 'n', '{}')"
expect 1 "$bin" audit verify --data-dir "$d"
echo "added event row: $out"
contains "event_not_logged"

# d) Two audit rows swapped (instance 2, versions 3 and 4).
d=$(copy swap)
a=$(leaf_of "$d/approvald.db" 2 3)
b=$(leaf_of "$d/approvald.db" 2 4)
sql "$d/approvald.db" "UPDATE audit_log SET idx = -1 WHERE idx = $a;
  UPDATE audit_log SET idx = $a WHERE idx = $b;
  UPDATE audit_log SET idx = $b WHERE idx = -1"
expect 1 "$bin" audit verify --data-dir "$d"
echo "swapped rows: $out"
contains "first bad leaf: $a"
expect 1 "$bin" audit verify --data-dir "$d" --read-threads 1
contains "first bad leaf: $a"

# e) The stored text of the expense definition changed: the first event that
#    runs on it is named.
d=$(copy definition)
idx=$(leaf_of "$d/approvald.db" 1 1)
sql "$d/approvald.db" "UPDATE definitions SET source = source || '# relaxed' WHERE workflow = 'expense'"
expect 1 "$bin" audit verify --data-dir "$d"
echo "changed definition: $out"
contains "definition_mismatch"
contains "first bad leaf: $idx (event of instance 1 version 1)"

# f) The definition removed: which rules applied can no longer be shown.
d=$(copy no-definition)
sql "$d/approvald.db" "DELETE FROM definitions WHERE workflow = 'expense'"
expect 1 "$bin" audit verify --data-dir "$d"
contains "definition_missing"
contains "first bad leaf: $idx (event of instance 1 version 1)"

# g) A damaged page of an index the log checks never read: the log verifies,
#    SQLite's own check of the file does not, so verify fails.
d=$(copy page)
root=$(sql "$d/approvald.db" "SELECT rootpage FROM sqlite_master WHERE name = 'audit_by_time'")
psize=$(sql "$d/approvald.db" "PRAGMA page_size")
[ -e "$d/approvald.db-wal" ] && fail "the copy has a WAL; the page would not be the stored one"
head -c "$psize" /dev/zero | tr '\0' 'Z' |
  dd of="$d/approvald.db" bs="$psize" seek=$((root - 1)) conv=notrunc iflag=fullblock status=none
expect 1 "$bin" audit verify --data-dir "$d"
echo "damaged page: $out"
contains "sqlite_integrity"
expect 0 "$bin" audit verify --data-dir "$d" --sqlite-check none

# 6. Usage and configuration errors.
expect 2 "$bin" audit verify --data-dir "$tmp/nowhere"
contains "no approvald database"
[ ! -e "$tmp/nowhere/approvald.db" ] || fail "audit verify created a database"
expect 2 "$bin" audit export --data-dir "$data" --from yesterday --to 2100-01-01T00:00:00Z \
  --out "$tmp/x.jsonl"
contains "not an ISO 8601 time"
expect 2 "$bin" audit key --data-dir "$tmp/nowhere"
contains "audit_ed25519.pem"
expect 2 "$bin" backup --data-dir "$tmp/nowhere" --to "$tmp/x.db"

echo "PASS: audit verify/export/verify-bundle/key and backup"

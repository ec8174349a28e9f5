#!/usr/bin/env bash
# End-to-end test of `approvald report` (issue 5).
# Usage (from the source root): report_cli_test.sh path/to/approvald path/to/populate_reports
#
#  1. populate a data dir at fixed times (three rectification items, one
#     三重一大 meeting, one purchase)
#  2. `report rectification` as CSV: the exact bytes (BOM, CRLF, quoting)
#  3. `report rectification` as JSON: the summary "2 of 3 done (66%)"
#  4. `report sanzhong-ledger` as CSV: the exact row, opinions in speaking order
#  5. `report procurement` --out FILE: the purchase, its required method, rule
#     and catalogue version, executed by the office: compliant
#  6. usage errors exit 2: unknown report, bad date, empty period, no database
# Any unexpected result fails the test; the temp dir is always removed.
set -euo pipefail

bin=$(realpath "$1")
populate=$(realpath "$2")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/approvald-report-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
# expect WANT_RC CMD...: runs CMD, keeps its stdout in $out (stderr in $err).
expect() {
  local want=$1; shift
  set +e
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  set -e
  out=$(cat "$tmp/out")
  err=$(cat "$tmp/err")
  if [ "$rc" -ne "$want" ]; then
    printf '%s\n%s\n' "$out" "$err" >&2
    fail "'$*' exited $rc, want $want"
  fi
}
contains() {  # contains HAYSTACK NEEDLE
  case "$1" in
    *"$2"*) ;;
    *) printf '%s\n' "$1" >&2; fail "output lacks '$2'" ;;
  esac
}

data="$tmp/data"
mkdir -p "$data"
"$populate" "$data" config/org.yaml workflows >/dev/null || fail "populate_reports failed"

h1=(--data-dir "$data" --from 2024-01-01 --to 2024-06-30)

# 2. Rectification as CSV, byte for byte.
expect 0 "$bin" report rectification "${h1[@]}" --format csv
printf '\xef\xbb\xbf' >"$tmp/want.csv"
cat >>"$tmp/want.csv" <<'CSV'
编号,问题编号,问题领域,问题描述,责任领导,责任股室,整改时限,当前环节,整改状态,是否完成,完成日期,是否回头看,是否逾期,逾期天数,是否督办升级
1,1-1,决策程序,“三重一大”事项未经集体决策,陈志远,办公室,2024-01-31,整改完成并经回头看,长期坚持,是,2024-01-09,是,否,0,否
2,1-2,财务管理,报销审核不严，未落实双线把关,王海燕,计财室,2024-01-10,回头看复查,长期坚持,是,2024-01-12,否,逾期完成,0,否
3,2-1,政府采购,采购未执行政府采购目录,李建华,办公室,2024-01-12,责任股室制定整改措施,整改中,否,,否,是,171,是
CSV
# The heredoc has LF line ends; the report has CRLF.
sed -i 's/$/\r/' "$tmp/want.csv"
cmp "$tmp/out" "$tmp/want.csv" || { diff <(cat -A "$tmp/out") <(cat -A "$tmp/want.csv") >&2 || true; fail "rectification CSV differs"; }
contains "$err" "rectification: 3 rows; text=2 of 3 done (66%)"

# 3. JSON carries the same rows and the summary.
expect 0 "$bin" report rectification "${h1[@]}" --format json
contains "$out" '"summary":{"total":"3","done":"2","percent":"66","overdue":"1","text":"2 of 3 done (66%)"'
contains "$out" '"problem_no":"2-1","area":"政府采购"'

# 4. The 三重一大 ledger.
expect 0 "$bin" report sanzhong-ledger "${h1[@]}"
contains "$out" '4,时花种植项目预算调整,大额度资金运作,刘国强,2024-01-08 10:00:00,2024-01-08 10:00:00,2024-01-11 09:30:00,5,陈志远、李建华、王海燕、刘国强、赵敏、黄晓明,5/5; rule 1/2 strict,赵敏: 亲属在供应商任职,1. 刘国强: 建议同意; 2. 王海燕: 资金已落实，同意; 3. 李建华: 同意; 4. 黄晓明: 程序合规; 5. 陈志远: 同意,刘国强: 同意; 王海燕: 同意; 李建华: 同意; 黄晓明: 同意; 陈志远: 同意,"同意 5, 不同意 0, 缓议 0",通过,园林〔2024〕3号,,running'
expect 0 "$bin" report sanzhong-ledger --data-dir "$data" --from 2024-07-01 --to 2024-12-31
[ "$(printf '%s' "$out" | wc -l)" -eq 0 ] || fail "the second half of 2024 has no meeting"

# 5. Procurement, written with --out.
expect 0 "$bin" report procurement "${h1[@]}" --out "$tmp/p.csv"
[ -z "$out" ] || fail "--out must leave stdout empty"
contains "$(cat "$tmp/p.csv")" "编号,申请时间,申请股室,品目编码"
contains "$(cat "$tmp/p.csv")" "5,2024-01-15 09:00:00,园林室,C99999999,绿化养护服务,3000.00,限额以下自行采购,3000.00 < decentralised threshold 300000.00 for services,guangdong-2020-city-county 2020,,周杰,办公室,,running,是,"
contains "$err" "procurement: 1 rows; purchases=1"

# 6. Usage errors.
expect 2 "$bin" report ledger "${h1[@]}"
contains "$err" "the reports are: sanzhong-ledger, rectification, procurement"
expect 2 "$bin" report rectification --data-dir "$data" --from 2024-13-01
contains "$err" "--from"
expect 2 "$bin" report rectification --data-dir "$data" --from 2024-06-30 --to 2024-01-01
contains "$err" "the period is empty"
expect 2 "$bin" report rectification --data-dir "$tmp/nothing-here"
contains "$err" "no approvald database here"
echo "report CLI: all checks passed"

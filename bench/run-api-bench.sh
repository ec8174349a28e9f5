#!/usr/bin/env bash
# The API benchmark (issue 4), in one run on this machine:
#   1. baseline: a minimal Beast server (api_bench baseline) answering a fixed
#      JSON body — the same bytes approvald returns for the instance below —
#      with 64 keep-alive connections;
#   2. approvald: GET /api/v1/instances/{id} with 64 keep-alive connections,
#      rotating over every instance submitted below, each read with its
#      submitter's token (so no cache of one instance or one viewer carries
#      it); and, labelled "get one", the first instance read over and over;
#   3. approvald: durable approve actions spread over many instances, each
#      acknowledged only after its synchronous=FULL commit: actions/s, p99,
#      and the daemon's CPU per action (its user + system time over the
#      chunk, from /proc: less swayed than the rates by how fast this shared
#      machine runs at the time, though not free of it);
#   4. approvald's peak resident memory over 1-3;
#   5. 10,000 idle authenticated WebSockets: resident memory per connection.
# Each HTTP load runs twice: with bench/api_bench (this project's client) and
# with wrk (Debian's package; bench/wrk/plan.lua walks the same plans). wrk
# costs the machine less CPU per request than api_bench, so on these 2 shared
# cores its figures are less bound by the client: against the baseline server
# it made 25-30 k req/s where api_bench made 12-19 k in the same minutes. The
# summary gives both; wrk's approvals run for APPROVE_SECONDS per chunk on
# instances submitted for them (a timed run cannot end exactly with its plan).
# Results: bench/results/api-<stamp>.jsonl and a summary on stdout.
#
#   bench/run-api-bench.sh [BUILD_DIR]      (default: build-bench)
# Environment: SECONDS_PER_RUN (10), INSTANCES (25000), WS_COUNT (10000),
# REPS (3): rounds of baseline and GET, alternating which goes first, and
# chunks the approvals are split into; the summary gives the medians;
# WORKERS (4): the daemon's worker_threads; APPROVE_SECONDS (1): length of each
# of wrk's REPS approval chunks, on 7,500 fresh instances per chunk (two
# actions each: room for 15,000 approvals/s).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${1:-build-bench}"
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
BIN="$BUILD_DIR/approvald"
LOAD="$BUILD_DIR/bench/api_bench"
RESULTS_DIR="${RESULTS_DIR:-$ROOT/bench/results}"
SECS="${SECONDS_PER_RUN:-10}"
INSTANCES="${INSTANCES:-25000}"
WS_COUNT="${WS_COUNT:-10000}"
REPS="${REPS:-3}"
WORKERS="${WORKERS:-4}"
CONNS=64
APPROVE_SECS="${APPROVE_SECONDS:-1}"
WRK_PLAN="${WRK_PLAN:-$ROOT/bench/wrk/plan.lua}"
for f in "$BIN" "$LOAD"; do
  [[ -x "$f" ]] || { echo "run-api-bench: $f not built" >&2; exit 1; }
done
command -v wrk >/dev/null || {
  echo "run-api-bench: wrk is not installed (scripts/install-deps.sh --bench, or make bench)" >&2
  exit 1
}
mkdir -p "$RESULTS_DIR"
OUT="$RESULTS_DIR/api-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
WORK="$(mktemp -d)"
ulimit -n "$(ulimit -Hn)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
# The process's user + system CPU time so far, in clock ticks (fields 14 and
# 15 of /proc/PID/stat; the name before them has no spaces here).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
CLK_TCK="$(getconf CLK_TCK)"
# The daemon's CPU in µs per action over a chunk: TICKS_BEFORE TICKS_AFTER ACTIONS.
cpu_us_per() { echo $(( ($2 - $1) * 1000000 / CLK_TCK / ($3 > 0 ? $3 : 1) )); }
record() { echo "$1" | tee -a "$OUT"; }
# The values of the daemon's /metrics samples NAME... (without labels), in
# that order on one line, 0 for one it does not export: metrics PORT NAME...
metrics() {
  local port="$1"
  shift
  curl -s "http://127.0.0.1:$port/metrics" |
    awk -v names="$*" '{v[$1] = $2}
      END {n = split(names, want, " "); for (i = 1; i <= n; i++) printf "%s%s", v[want[i]] + 0, (i < n ? " " : "\n")}'
}
# The state cache's hits and misses so far ("HITS MISSES").
state_cache() { metrics "$1" approvald_state_cache_hits_total approvald_state_cache_misses_total; }
# Records how an approve phase's actions found their instances: CLIENT, then
# the state_cache counts before and after it.
record_cache() {
  record "{\"bench\":\"caches_during_approve\",\"client\":\"$1\",\"state_hits\":$(( $4 - $2 )),\"state_misses\":$(( $5 - $3 ))}"
}

# --- approvald with benchmark limits -----------------------------------------
PORT="$(free_port)"
cat > "$WORK/bench.yaml" <<EOF
org_file: "$ROOT/config/org.yaml"
workflows_dir: "$ROOT/workflows"
worker_threads: $WORKERS    # commits do not hold a worker (RouteAsync): a few keep the group commit full
limits:
  max_connections: 15000
  requests_per_second: 1000000
  request_burst: 1000000
log:
  level: warn
EOF
"$BIN" serve --config "$WORK/bench.yaml" --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" --demo \
  > "$WORK/serve.out" 2> "$WORK/serve.err" &
SERVER=$!
PIDS+=("$SERVER")
for _ in $(seq 1 300); do grep -q "listening on" "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
grep -q "listening on" "$WORK/serve.out" || { cat "$WORK/serve.err"; exit 1; }
echo "== approvald pid $SERVER on 127.0.0.1:$PORT ($(nproc) cores, build $(basename "$BUILD_DIR"))"
record "{\"bench\":\"rss_idle\",\"rss_kb\":$(rss_kb "$SERVER")}"

token() {
  curl -s -X POST "http://127.0.0.1:$PORT/api/v1/auth/login" \
    -d "{\"username\":\"$1\",\"password\":\"approvald-demo\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
# Clerks of five departments and their department heads (line 1); the finance
# office head approves line 2 of every request (with the comment it requires).
declare -A HEAD=([zhang_min]=lin_xiaoyan [xu_lei]=yang_fan [hu_bin]=zhu_qiang
                 [song_jia]=luo_jun [feng_tao]=han_xue)
declare -A TOKEN
for clerk in "${!HEAD[@]}"; do
  TOKEN[$clerk]="$(token "$clerk")"
  TOKEN[${HEAD[$clerk]}]="$(token "${HEAD[$clerk]}")"
  echo "$clerk ${TOKEN[$clerk]}" >> "$WORK/clerks.txt"
done
TOKEN[zheng_li]="$(token zheng_li)"

# --- data: instances to read and to approve ----------------------------------
"$LOAD" submit "$PORT" "$WORK/clerks.txt" "$INSTANCES" "$CONNS" "$WORK/instances.txt" | tee -a "$OUT"
FIRST_ID="$(head -1 "$WORK/instances.txt" | cut -d' ' -f1)"
FIRST_CLERK="$(head -1 "$WORK/instances.txt" | cut -d' ' -f2)"
curl -s "http://127.0.0.1:$PORT/api/v1/instances/$FIRST_ID" \
  -H "Authorization: Bearer ${TOKEN[$FIRST_CLERK]}" > "$WORK/instance.json"
echo "== instance body: $(wc -c < "$WORK/instance.json") bytes"

# Every instance with its submitter's token: the rotating GET's plan.
while read -r id clerk; do
  echo "/api/v1/instances/$id ${TOKEN[$clerk]}"
done < "$WORK/instances.txt" > "$WORK/get-plan.txt"
sed 's/^/GET /' "$WORK/get-plan.txt" > "$WORK/wrk-get-plan.txt"

# --- 1 and 2. baseline and GET /api/v1/instances/{id}, REPS rounds ----------
# Alternating, and swapping which goes first each round, so that both see the
# same machine load.
BPORT="$(free_port)"
"$LOAD" baseline "$BPORT" "$WORK/instance.json" > "$WORK/baseline.out" &
BASE=$!
PIDS+=("$BASE")
sleep 0.5
run_baseline() {
  "$LOAD" get "$BPORT" "/api/v1/instances/$FIRST_ID" - "$CONNS" "$SECS" |
    sed "s/\"bench\":\"get/\"bench\":\"baseline get/; s/}\$/,\"round\":$1}/" | tee -a "$OUT"
}
run_get() {
  "$LOAD" getmany "$PORT" "$WORK/get-plan.txt" "$CONNS" "$SECS" |
    sed "s/}\$/,\"round\":$1}/" | tee -a "$OUT"
}
run_get_one() {
  "$LOAD" get "$PORT" "/api/v1/instances/$FIRST_ID" "${TOKEN[$FIRST_CLERK]}" "$CONNS" "$SECS" |
    sed "s/\"bench\":\"get/\"bench\":\"get one/; s/}\$/,\"round\":$1}/" | tee -a "$OUT"
}
# wrk, one thread like api_bench, walking a plan (bench/wrk/plan.lua).
# Prints wrk's report line; fails if a request failed or wrk reported nothing.
wrk_plan() {  # LABEL PORT PLAN_FILE SECONDS LOOP OFFSET ROUND [DAEMON_PID]
  local line t0=0
  # With DAEMON_PID: its CPU per request sent (every request wrk sent is
  # taken; those still in flight when wrk stops are given 0.3 s to finish).
  [[ -z "${8:-}" ]] || t0="$(cpu_ticks "$8")"
  line="$(LABEL="$1" PLAN="$3" LOOP="$5" OFFSET="$6" CONNS="$CONNS" \
    wrk -t1 -c"$CONNS" -d"$4"s -s "$WRK_PLAN" "http://127.0.0.1:$2" |
    grep '^{"bench"' | sed "s/}\$/,\"round\":$7}/")"
  [[ -n "$line" ]] || { echo "run-api-bench: wrk gave no report ($1)" >&2; return 1; }
  if [[ -n "${8:-}" ]]; then
    sleep 0.3
    local sent
    sent="$(echo "$line" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["sent"])')"
    line="$(echo "$line" | sed "s/}\$/,\"daemon_cpu_us\":$(cpu_us_per "$t0" "$(cpu_ticks "$8")" "$sent")}/")"
  fi
  echo "$line" | tee -a "$OUT"
  [[ "$line" == *'"failed":0,'* ]] || { echo "run-api-bench: requests failed ($1)" >&2; return 1; }
}
echo "GET /api/v1/instances/$FIRST_ID -" > "$WORK/wrk-baseline-plan.txt"
echo "GET /api/v1/instances/$FIRST_ID ${TOKEN[$FIRST_CLERK]}" > "$WORK/wrk-get-one-plan.txt"
run_wrk_baseline() { wrk_plan "wrk baseline get" "$BPORT" "$WORK/wrk-baseline-plan.txt" "$SECS" 1 0 "$1"; }
run_wrk_get() { wrk_plan "wrk get many" "$PORT" "$WORK/wrk-get-plan.txt" "$SECS" 1 0 "$1"; }
run_wrk_get_one() { wrk_plan "wrk get one" "$PORT" "$WORK/wrk-get-one-plan.txt" "$SECS" 1 0 "$1"; }
for r in $(seq 1 "$REPS"); do
  if (( r % 2 )); then run_baseline "$r"; run_get "$r"; run_get_one "$r"
    run_wrk_baseline "$r"; run_wrk_get "$r"; run_wrk_get_one "$r"
  else run_wrk_get_one "$r"; run_wrk_get "$r"; run_wrk_baseline "$r"
    run_get_one "$r"; run_get "$r"; run_baseline "$r"; fi
done
kill "$BASE"
# How the GET rounds were answered: the caches' hits and misses so far.
read -r sh sm hh hm ah am <<< "$(metrics "$PORT" \
  approvald_state_cache_hits_total approvald_state_cache_misses_total \
  approvald_view_head_cache_hits_total approvald_view_head_cache_misses_total \
  approvald_viewer_actions_hits_total approvald_viewer_actions_misses_total)"
record "{\"bench\":\"caches_after_get\",\"state_hits\":$sh,\"state_misses\":$sm,\"head_hits\":$hh,\"head_misses\":$hm,\"actions_hits\":$ah,\"actions_misses\":$am}"

# --- 3. durable approve actions ----------------------------------------------
# Line 1 of every instance first, then line 2: two actions per instance, never
# two at once on the same instance.
while read -r id clerk; do
  echo "$id ${TOKEN[${HEAD[$clerk]}]} dept_head_review"
done < "$WORK/instances.txt" > "$WORK/plan.txt"
while read -r id clerk; do
  echo "$id ${TOKEN[zheng_li]} finance_review"
done < "$WORK/instances.txt" >> "$WORK/plan.txt"
# Split into REPS consecutive chunks, each measured on its own.
TOTAL="$(wc -l < "$WORK/plan.txt")"
split -l "$(( (TOTAL + REPS - 1) / REPS ))" -d "$WORK/plan.txt" "$WORK/plan.part."
r=0
read -r h0 m0 <<< "$(state_cache "$PORT")"
for part in "$WORK"/plan.part.*; do
  r=$((r + 1))
  t0="$(cpu_ticks "$SERVER")"
  line="$("$LOAD" approve "$PORT" "$part" "$CONNS")"
  ok="$(echo "$line" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["ok"])')"
  echo "$line" | sed "s/}\$/,\"round\":$r,\"daemon_cpu_us\":$(cpu_us_per "$t0" "$(cpu_ticks "$SERVER")" "$ok")}/" |
    tee -a "$OUT"
done
read -r h1 m1 <<< "$(state_cache "$PORT")"
record_cache api_bench "$h0" "$m0" "$h1" "$m1"
# wrk's approvals: timed chunks on instances submitted for them, each chunk
# going on where the last one's requests ended (its answered and unanswered
# ones are all sent, so all are taken).
"$LOAD" submit "$PORT" "$WORK/clerks.txt" "$(( 7500 * REPS ))" "$CONNS" "$WORK/wrk-instances.txt" "$INSTANCES" |
  sed 's/"bench":"submit"/"bench":"submit for wrk"/' | tee -a "$OUT"
{
  while read -r id clerk; do
    echo "POST /api/v1/instances/$id/actions ${TOKEN[${HEAD[$clerk]}]} dept_head_review"
  done < "$WORK/wrk-instances.txt"
  while read -r id clerk; do
    echo "POST /api/v1/instances/$id/actions ${TOKEN[zheng_li]} finance_review"
  done < "$WORK/wrk-instances.txt"
} > "$WORK/wrk-approve-plan.txt"
offset=0
read -r h0 m0 <<< "$(state_cache "$PORT")"
for r in $(seq 1 "$REPS"); do
  line="$(wrk_plan "wrk approve" "$PORT" "$WORK/wrk-approve-plan.txt" "$APPROVE_SECS" 0 "$offset" "$r" "$SERVER")"
  sent="$(echo "$line" | python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); print(-1 if r["ran_out"] else r["sent"])')"
  (( sent >= 0 )) || { echo "run-api-bench: wrk ran out of approvals; raise the plan (7,500 instances per chunk)" >&2; exit 1; }
  offset=$(( offset + sent ))
done
read -r h1 m1 <<< "$(state_cache "$PORT")"
record_cache wrk "$h0" "$m0" "$h1" "$m1"
record "{\"bench\":\"rss_peak_after_http\",\"hwm_kb\":$(hwm_kb "$SERVER"),\"rss_kb\":$(rss_kb "$SERVER")}"
read -r requests batches <<< "$(metrics "$PORT" approvald_store_commit_batch_size_sum \
  approvald_store_commit_batch_size_count)"
record "{\"bench\":\"group_commit\",\"requests\":$requests,\"batches\":$batches}"

kill -TERM "$SERVER"
wait "$SERVER" || true

# --- 5. idle WebSockets, on a fresh daemon (same data) so freed heap from the
# HTTP runs does not hide what the sockets cost ------------------------------
"$BIN" serve --config "$WORK/bench.yaml" --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" --demo \
  > "$WORK/serve2.out" 2> "$WORK/serve2.err" &
SERVER=$!
PIDS+=("$SERVER")
for _ in $(seq 1 300); do grep -q "listening on" "$WORK/serve2.out" 2>/dev/null && break; sleep 0.1; done
WS_TOKEN="$(token zhang_min)"
sleep 1
BEFORE="$(rss_kb "$SERVER")"
"$LOAD" ws "$PORT" "$WS_TOKEN" "$WS_COUNT" 8 > "$WORK/ws.out" &
WSP=$!
PIDS+=("$WSP")
for _ in $(seq 1 1200); do grep -q "holding" "$WORK/ws.out" 2>/dev/null && break; sleep 0.1; done
sleep 2
AFTER="$(rss_kb "$SERVER")"
grep '^{' "$WORK/ws.out" | tee -a "$OUT"
OPEN="$(metrics "$PORT" approvald_open_websockets)"
wait "$WSP" || true
record "{\"bench\":\"ws_idle\",\"websockets\":$OPEN,\"rss_before_kb\":$BEFORE,\"rss_after_kb\":$AFTER,\"bytes_per_ws\":$(( (AFTER - BEFORE) * 1024 / (OPEN > 0 ? OPEN : 1) ))}"
kill -TERM "$SERVER"
wait "$SERVER" || true
# --- summary: medians over the rounds -----------------------------------------
python3 - "$OUT" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
def med(bench, key):
    xs = [r[key] for r in rows if r.get("bench", "").split(" /")[0] == bench]
    return statistics.median(xs) if xs else float("nan"), len(xs)
def block(prefix, title, approve_unit):
    b, n = med(prefix + "baseline get", "per_second")
    g, _ = med(prefix + "get many", "per_second")
    g1, _ = med(prefix + "get one", "per_second")
    a, na = med(prefix + "approve", "per_second")
    def lat(bench):
        return (f"p50 {med(prefix + bench, 'p50_ms')[0]:.2f} ms  "
                f"p99 {med(prefix + bench, 'p99_ms')[0]:.2f} ms")
    print(f"== {title}, medians of {n} rounds:")
    print(f"   baseline        {b:9.0f} req/s  {lat('baseline get')}")
    print(f"   GET instance    {g:9.0f} req/s  {lat('get many')}  = {100*g/b:.0f} % of baseline  (rotating over every instance)")
    print(f"   GET one inst.   {g1:9.0f} req/s  {lat('get one')}  = {100*g1/b:.0f} % of baseline  (the first instance only)")
    cpu, _ = med(prefix + "approve", "daemon_cpu_us")
    print(f"   approve         {a:9.0f} actions/s  {lat('approve')}  ({na} {approve_unit}; "
          f"daemon CPU {cpu:.0f} µs per action)")
block("", "api_bench as the client", "chunks")
block("wrk ", "wrk as the client", "timed chunks")
for r in rows:
    if r.get("bench") == "rss_peak_after_http":
        print(f"   peak RSS        {r['hwm_kb']/1024:.1f} MB")
    if r.get("bench") == "caches_after_get":
        sh, sm, hh, hm = r["state_hits"], r["state_misses"], r["head_hits"], r["head_misses"]
        print(f"   caches (after the GET rounds): state {100*sh/max(1,sh+sm):.0f} % hits, "
              f"view head {100*hh/max(1,hh+hm):.0f} % hits")
    if r.get("bench") == "caches_during_approve":
        sh, sm = r["state_hits"], r["state_misses"]
        print(f"   approvals ({r['client']}) found their instance in the state cache: "
              f"{100*sh/max(1,sh+sm):.0f} % ({sm} read from the store)")
    if r.get("bench") == "ws_idle":
        print(f"   idle WebSockets {r['websockets']}: {r['bytes_per_ws']/1024:.1f} KB each")
PY
echo "== results in $OUT"

-- wrk script for bench/run-api-bench.sh: sends the requests of a plan file in
-- order, one per line, over all of wrk's connections, and reports how many it
-- sent and how many were answered with a status below 400 (JSON on stdout,
-- one line). It defines no response() hook, so that wrk does not copy every
-- answer into Lua: failures are what wrk counts as status >= 400 or socket
-- errors.
--
-- Environment:
--   PLAN    the plan file. A line is "GET TARGET TOKEN" (a read as TOKEN's
--           user; "-": no Authorization header) or "POST TARGET TOKEN NODE" (an approve action on NODE).
--   OFFSET  the first line to send, 0-based (default 0): a run that stops after
--           its duration leaves the rest of the plan for the next one.
--   LOOP    1: start the plan over when it ends (reads); otherwise running out
--           of lines is an error, reported as "ran_out" (raise INSTANCES).
--   LABEL   the "bench" name of the report.
-- Run with one wrk thread (-t1): the plan is walked by that thread alone.

local plan = {}
local next_line = 1
sent, ran_out = 0, false   -- globals: done() reads them from the thread (thread:get)

local function load_plan()
  local f = assert(io.open(os.getenv("PLAN"), "r"), "PLAN: cannot open the plan file")
  for line in f:lines() do
    local method, target, token, node = line:match("^(%u+)%s+(%S+)%s+(%S+)%s*(%S*)")
    if method then
      local headers = {}
      if token ~= "-" then headers["Authorization"] = "Bearer " .. token end
      local body = nil
      if method == "POST" then
        headers["Content-Type"] = "application/json"
        body = '{"action":"approve","node":"' .. node .. '","comment":"同意"}'
      end
      plan[#plan + 1] = wrk.format(method, target, headers, body)
    end
  end
  f:close()
  next_line = (tonumber(os.getenv("OFFSET") or "0") or 0) + 1
end

function init(args)
  load_plan()
end

function request()
  if next_line > #plan then
    if os.getenv("LOOP") == "1" and #plan > 0 then
      next_line = 1
    else
      ran_out = true
      return wrk.format("GET", "/healthz")
    end
  end
  local r = plan[next_line]
  next_line = next_line + 1
  sent = sent + 1
  return r
end

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local sent_total, out = 0, false
  for _, t in ipairs(threads) do
    sent_total = sent_total + t:get("sent")
    if t:get("ran_out") then out = true end
  end
  local e = summary.errors
  local failed = e.status + e.connect + e.read + e.write + e.timeout
  local ok = summary.requests - e.status
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"bench":"%s","client":"wrk","connections":%d,"seconds":%.2f,"ok":%d,"failed":%d,' ..
    '"per_second":%.0f,"p50_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"sent":%d,"ran_out":%s}\n',
    os.getenv("LABEL") or "plan", tonumber(os.getenv("CONNS") or "0"), seconds, ok, failed,
    ok / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, sent_total, tostring(out)))
end

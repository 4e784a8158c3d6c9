-- wrk script for the write bar of bench/run.sh: Guayaba POST /contacts, every request with a
-- phone number no other request of the run used (so each one creates a contact).
--
--   wrk -t2 -c50 -d10s --latency -s bench/write.lua http://127.0.0.1:PORT/contacts -- RUN
--
-- RUN (0-9) keeps phones distinct across the runs made against one server (warm-up, measure).
-- The phone is +1 RUN THREAD(2) COUNTER(8): 12 digits, E.164. done() prints the same WRK line
-- as bench/wrk.lua.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "summary.lua")

local key = os.getenv("BENCH_API_KEY") or "gua_demo0002_key"
local threads, nthreads = {}, 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
  table.insert(threads, thread)
end

local run, n = 0, 0
local headers = {["X-API-Key"] = key, ["Content-Type"] = "application/json"}

function init(args)
  run = tonumber(args[1] or "0") or 0
end

function request()
  n = n + 1
  local body = string.format(
    '{"phoneNumber":"+1%d%02d%08d","campaignId":"550e8400-e29b-41d4-a716-446655440000"}',
    run, tid, n)
  return wrk.format("POST", "/contacts", headers, body)
end

function done(summary, latency, requests)
  write_summary(summary, latency)
end

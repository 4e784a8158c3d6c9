-- wrk script for bench/soak.py: a mix of every kind of request understudy serves, in a fixed
-- cycle of 20 per thread:
--   13  Guayaba GET /contacts/statuses                       (read)
--    1  RASL GET /api/v2/contacts/1                          (read)
--    1  Convoso GET /v1/status/search?query=COMP             (read)
--    1  Guayaba POST /contacts, a phone no request used      (write: a new contact)
--    1  Guayaba GET /contacts/statuses, X-Understudy-Error   (injected 429)
--    1  Convoso GET /v1/status/search, X-Understudy-Error    (injected 429)
--    1  RASL GET /api/v2/account, X-Understudy-Error         (injected 429)
--    1  GET /__admin/requests?limit=20                       (journal read)
-- so 3 answers in 20 are 429s by design (wrk counts them as non-2xx).
--
--   wrk -t2 -c50 -d5s -s bench/soak.lua http://127.0.0.1:PORT/ -- CHUNK
--
-- CHUNK (0-999) keeps phones distinct across the wrk runs made against one server: the phone
-- is +1 CHUNK(3) THREAD(2) COUNTER(7). done() prints the WRK line of bench/wrk.lua.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "summary.lua")

local threads, nthreads = {}, 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
  table.insert(threads, thread)
end

local chunk, n = 0, 0
local gua = {["X-API-Key"] = "gua_demo0002_key"}
local gua_json = {["X-API-Key"] = "gua_demo0002_key", ["Content-Type"] = "application/json"}
local gua_err = {["X-API-Key"] = "gua_demo0002_key", ["X-Understudy-Error"] = "Too many requests"}
local rasl = {["Authorization"] = "Bearer wm_demo_unlimited"}
local rasl_err = {["Authorization"] = "Bearer wm_demo_unlimited",
                  ["X-Understudy-Error"] = "RATE_LIMIT_EXCEEDED"}
local cv_err = {["X-Understudy-Error"] = "429"}
local none = {}
local fixed = {}

function init(args)
  chunk = tonumber(args[1] or "0") or 0
  fixed[13] = wrk.format("GET", "/api/v2/contacts/1", rasl)
  fixed[14] = wrk.format("GET", "/v1/status/search?auth_token=cv_demo_token&query=COMP", none)
  fixed[16] = wrk.format("GET", "/contacts/statuses", gua_err)
  fixed[17] = wrk.format("GET", "/v1/status/search?auth_token=cv_demo_token", cv_err)
  fixed[18] = wrk.format("GET", "/api/v2/account", rasl_err)
  fixed[19] = wrk.format("GET", "/__admin/requests?limit=20", none)
  fixed[0] = wrk.format("GET", "/contacts/statuses", gua)
end

function request()
  local k = n % 20
  n = n + 1
  if k == 15 then
    local body = string.format(
      '{"phoneNumber":"+1%03d%02d%07d","campaignId":"550e8400-e29b-41d4-a716-446655440000"}',
      chunk, tid, n)
    return wrk.format("POST", "/contacts", gua_json, body)
  end
  return fixed[k] or fixed[0]
end

function done(summary, latency, requests)
  write_summary(summary, latency)
end

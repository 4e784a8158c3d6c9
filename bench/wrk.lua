-- wrk script for bench/run.sh. Used unchanged against understudy and nginx, so both
-- get byte-for-byte the same request (nginx ignores the key header).
--
-- wrk's Lua API has no per-connection hook: response() is called per thread with no
-- connection identity, so "how many of the 50 connections were served" cannot be
-- counted here. run.sh reads that from the kernel instead (ss: bytes_received of
-- each of wrk's sockets, sampled during the run) and cross-checks it with
-- bench.py conncheck (50 keep-alive connections, each counted).
--
-- Defining response() makes wrk parse every body and call Lua per response, which
-- slows the client, so the per-thread counter is only on with WRK_COUNT=1.
-- done() prints one machine-readable line that run.sh parses:
--   WRK requests=N duration_us=N rps=F p50_us=N p99_us=N max_us=N
--       err_connect=N err_read=N err_write=N err_timeout=N non2xx=N
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "summary.lua")

local key = os.getenv("BENCH_API_KEY")
if key and key ~= "" then
  wrk.headers["X-API-Key"] = key
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

if os.getenv("WRK_COUNT") == "1" then
  function init(args)
    responses = 0
    non200 = 0
  end

  function response(status, headers, body)
    responses = responses + 1
    if status ~= 200 then non200 = non200 + 1 end
  end
end

function done(summary, latency, requests)
  write_summary(summary, latency)
  if os.getenv("WRK_COUNT") == "1" then
    for i, t in ipairs(threads) do
      io.write(string.format("WRK thread=%d responses=%s non200=%s\n",
        i, tostring(t:get("responses")), tostring(t:get("non200"))))
    end
  end
end

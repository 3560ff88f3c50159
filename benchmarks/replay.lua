-- Replays prepared HTTP requests round-robin (wrk -s replay.lua URL -- REQUESTS_FILE [LIMIT]).
--
-- REQUESTS_FILE holds one request per line: METHOD <TAB> PATH <TAB> BODY { <TAB> Name: value }.
-- The benchmark harness (harness.py) writes it: JSON bodies, pre-signed Waffo requests, ids to
-- read. done() prints one line, "WRK_JSON {...}", that the harness parses. No response() hook
-- here, so wrk does not hand every body to Lua; fill.lua adds one to stop after LIMIT responses.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "wrk_io.lua")

local requests = {}
local index = 0
limit = 0  -- global: fill.lua reads it

function init(args)
  local file = args[1]
  if file == nil then
    error("usage: wrk -s replay.lua URL -- REQUESTS_FILE [LIMIT]")
  end
  limit = tonumber(args[2] or "0") or 0
  requests = read_requests(file)
  -- Threads start at different places in the list.
  index = math.random(0, #requests - 1)
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function done(summary, latency, requests)
  write_summary(summary, latency, "")
end

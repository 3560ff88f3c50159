-- replay.lua, but each thread stops after LIMIT responses:
--   wrk -t2 -c32 -d300s -s fill.lua URL -- REQUESTS_FILE LIMIT
-- Used to put a known number of objects into the server (a few more: requests in flight finish).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "replay.lua")

local seen = 0

function response(status, headers, body)
  seen = seen + 1
  if limit > 0 and seen >= limit then
    wrk.thread:stop()
  end
end

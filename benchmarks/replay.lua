-- Replays prepared HTTP requests round-robin (wrk -s replay.lua URL -- REQUESTS_FILE [LIMIT]).
--
-- REQUESTS_FILE holds one request per line: METHOD <TAB> PATH <TAB> BODY { <TAB> Name: value }.
-- The benchmark harness (harness.py) writes it: JSON bodies, pre-signed Waffo requests, ids to
-- read. done() prints one line, "WRK_JSON {...}", that the harness parses. No response() hook
-- here, so wrk does not hand every body to Lua; fill.lua adds one to stop after LIMIT responses.

local requests = {}
local index = 0
limit = 0  -- global: fill.lua reads it

local function split(line)
  local fields, start = {}, 1
  while true do
    local stop = string.find(line, "\t", start, true)
    if stop == nil then
      fields[#fields + 1] = string.sub(line, start)
      return fields
    end
    fields[#fields + 1] = string.sub(line, start, stop - 1)
    start = stop + 1
  end
end

function init(args)
  local file = args[1]
  if file == nil then
    error("usage: wrk -s replay.lua URL -- REQUESTS_FILE [LIMIT]")
  end
  limit = tonumber(args[2] or "0") or 0
  for line in io.lines(file) do
    if #line > 0 then
      local f = split(line)
      local headers = {}
      for i = 4, #f do
        local name, value = string.match(f[i], "^([^:]+):%s*(.*)$")
        if name ~= nil then headers[name] = value end
      end
      local body = f[3]
      if body == "" then body = nil end
      requests[#requests + 1] = wrk.format(f[1], f[2], headers, body)
    end
  end
  if #requests == 0 then
    error("no requests in " .. file)
  end
  -- Threads start at different places in the list.
  index = math.random(0, #requests - 1)
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "timeout_errors": %d, "status_errors": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout,
    e.status, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end

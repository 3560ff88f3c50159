-- What the harness hands wrk and reads back, for replay.lua and mix.lua alike: the requests file
-- in (one request per line: METHOD <TAB> PATH <TAB> BODY { <TAB> Name: value }), the WRK_JSON
-- summary line out (harness.py parses it).

function read_requests(file)
  local requests = {}
  for line in io.lines(file) do
    if #line > 0 then
      local fields, start = {}, 1
      while true do
        local stop = string.find(line, "\t", start, true)
        if stop == nil then
          fields[#fields + 1] = string.sub(line, start)
          break
        end
        fields[#fields + 1] = string.sub(line, start, stop - 1)
        start = stop + 1
      end
      local headers = {}
      for i = 4, #fields do
        local name, value = string.match(fields[i], "^([^:]+):%s*(.*)$")
        if name ~= nil then headers[name] = value end
      end
      local body = fields[3]
      if body == "" then body = nil end
      requests[#requests + 1] = wrk.format(fields[1], fields[2], headers, body)
    end
  end
  if #requests == 0 then
    error("no requests in " .. file)
  end
  return requests
end

-- `extra`: further "name": value pairs (already JSON) for the line, or "".
function write_summary(summary, latency, extra)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "timeout_errors": %d, "status_errors": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f%s}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout,
    e.status, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, extra))
end

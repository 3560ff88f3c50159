-- The stateful mix (paymock only): chains of create Dodo checkout session -> GET it -> pay it
-- through the control API -> GET it again.
--
--   wrk -s mix.lua URL -- CREATE_FILE API_PREFIX API_KEY NAMESPACE [CHAINS_PER_THREAD]
--
-- CREATE_FILE holds create-session requests in replay.lua's format (one per line: METHOD <TAB>
-- PATH <TAB> BODY { <TAB> Name: value }), API_PREFIX is where Dodo is mounted ("/dodo"), API_KEY
-- the Bearer key, NAMESPACE the control API namespace of that key. CHAINS_PER_THREAD (optional):
-- stop the thread after that many finished chains (the smoke test).
--
-- wrk's request() does not say which connection asks, and other connections' answers arrive
-- between an answer and the next request on the same connection, so a connection cannot keep its
-- own chain. Each thread keeps a queue of next steps instead: response() reads which step an
-- answer is for from the answer itself and queues the chain's next step; request() sends the
-- oldest queued step, or starts a new chain when none is queued. A step is only sent after the
-- answer to the one before it, so every chain runs in order, and as many chains are in flight as
-- the thread has connections. done() prints replay.lua's WRK_JSON line plus the steps counted
-- over all threads.

local creates = {}
local index = 0
local queue, head, tail = {}, 1, 0
local api, key, namespace
local get_headers, pay_headers
local stop_after = 0

-- counted per thread, read by done() through thread:get()
created, fetched, paid, completed, broken = 0, 0, 0, 0, 0

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

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
  api, key, namespace = args[2], args[3], args[4]
  if file == nil or api == nil or key == nil or namespace == nil then
    error("usage: wrk -s mix.lua URL -- CREATE_FILE API_PREFIX API_KEY NAMESPACE [CHAINS]")
  end
  stop_after = tonumber(args[5] or "0") or 0
  for line in io.lines(file) do
    if #line > 0 then
      local f = split(line)
      local headers = {}
      for i = 4, #f do
        local name, value = string.match(f[i], "^([^:]+):%s*(.*)$")
        if name ~= nil then headers[name] = value end
      end
      creates[#creates + 1] = wrk.format(f[1], f[2], headers, f[3])
    end
  end
  if #creates == 0 then
    error("no requests in " .. file)
  end
  index = math.random(0, #creates - 1)
  get_headers = {["Authorization"] = "Bearer " .. key}
  pay_headers = {["Content-Type"] = "application/json"}
end

local function push(req)
  tail = tail + 1
  queue[tail] = req
end

function request()
  if head <= tail then
    local req = queue[head]
    queue[head] = nil
    head = head + 1
    return req
  end
  index = index % #creates + 1
  return creates[index]
end

local function get(id)
  return wrk.format("GET", api .. "/checkouts/" .. id, get_headers)
end

local function pay(id)
  return wrk.format("POST", "/_mock/payments/" .. id .. "/outcome", pay_headers,
                    '{"outcome":"paid","namespace":"' .. namespace .. '"}')
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    broken = broken + 1  -- the chain ends here; wrk counts the status as an error too
    return
  end
  if string.find(body, '^%s*{%s*"payment"%s*:') then
    -- the control API's pay: {"payment": {..., "ref": {"kind": "session", "id": "cks_..."}}}
    local id = string.match(body, '"ref"%s*:%s*{[^}]-"id"%s*:%s*"([^"]+)"')
    if id == nil then broken = broken + 1 return end
    paid = paid + 1
    push(get(id))
  elseif string.find(body, '"session_id"', 1, true) then
    -- create-session: {"session_id": "cks_...", "checkout_url": ...}
    local id = string.match(body, '"session_id"%s*:%s*"([^"]+)"')
    if id == nil then broken = broken + 1 return end
    created = created + 1
    push(get(id))
  else
    -- GET /checkouts/{id}: before the payment, payment_status is null
    local id = string.match(body, '"id"%s*:%s*"(cks_[^"]+)"')
    if id == nil then broken = broken + 1 return end
    fetched = fetched + 1
    if string.find(body, '"payment_status"%s*:%s*"succeeded"') then
      completed = completed + 1
      if stop_after > 0 and completed >= stop_after then
        wrk.thread:stop()
      end
    else
      push(pay(id))
    end
  end
end

function done(summary, latency, requests)
  local totals = {created = 0, fetched = 0, paid = 0, completed = 0, broken = 0}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + (thread:get(name) or 0)
    end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "timeout_errors": %d, "status_errors": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, ' ..
    '"created": %d, "fetched": %d, "paid": %d, "completed": %d, "broken": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout,
    e.status, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, totals.created, totals.fetched, totals.paid, totals.completed,
    totals.broken))
end

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

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "wrk_io.lua")

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

function init(args)
  local file = args[1]
  api, key, namespace = args[2], args[3], args[4]
  if file == nil or api == nil or key == nil or namespace == nil then
    error("usage: wrk -s mix.lua URL -- CREATE_FILE API_PREFIX API_KEY NAMESPACE [CHAINS]")
  end
  stop_after = tonumber(args[5] or "0") or 0
  creates = read_requests(file)
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
  write_summary(summary, latency, string.format(
    ', "created": %d, "fetched": %d, "paid": %d, "completed": %d, "broken": %d',
    totals.created, totals.fetched, totals.paid, totals.completed, totals.broken))
end

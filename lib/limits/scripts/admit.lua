-- Admission: checks rpm, tpm, the key's budget and the account's balance, and reserves all of them, or nothing.
-- The same rules as MemoryFigures.admit (memory.ts).
-- ARGV: revision, requestId, userId, keyId, ttlMs, rpm, tpm, maxBudget (-1: none), promptTokens, promptTokensEstimate, inMicros, outMicros,
-- requestedMax (-1: none), modelMax, periodStart (0: a lifetime budget; else the budget period whose spend is checked and
-- charged, money_key in prelude.lua), then (requestId, cost, tokens, record) quadruples: earlier requests' settlements with their usage
-- records, applied first (they ride along instead of costing a round trip each).
for i = 16, #ARGV, 4 do finish(ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), ARGV[i + 3]) end
local rev = tonumber(ARGV[1])
local current = num(redis.call('GET', 'kg:rev'))
if current ~= rev then return {'stale', current} end
local rid, user, keyId = ARGV[2], ARGV[3], ARGV[4]
local ttl, rpm, tpm, budget = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local prompt, estimate = tonumber(ARGV[9]), tonumber(ARGV[10])
local inP, outP, requested, modelMax = tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13]), tonumber(ARGV[14])
local period = ARGV[15]
local akey, kkey = 'kg:a:' .. user, 'kg:k:' .. keyId
local mkey = money_key(kkey, period)
local a = redis.call('HMGET', akey, 'balance', 'unflushed', 'reserved')
local k = redis.call('HMGET', mkey, 'spent', 'unflushed', 'reserved')
if not a[1] or not k[1] then return {'unseeded', a[1] and 0 or 1, k[1] and 0 or 1} end
local now = now_ms()
local tsum = trim(kkey, now, tpm)
local rc, ro, tc, to = window(kkey, tpm)
local accountAvail = num(a[1]) - num(a[2]) - num(a[3])
local keyAvail = accountAvail + 1
if budget >= 0 then keyAvail = budget - num(k[1]) - num(k[2]) - num(k[3]) end
local avail = math.max(0, math.min(accountAvail, keyAvail))
local moneyReason = 'balance'
if budget >= 0 and keyAvail < accountAvail then moneyReason = 'budget' end
local function refuse(reason, retry)
  return {'refuse', reason, retry, avail, rc, ro, tsum, tc, to, now}
end
if rpm >= 0 and rc >= rpm then return refuse('rpm', ro + WINDOW_MS - now) end
-- Money counts the prompt's bound (prompt); the tpm window, its estimate.
local function cost(i, o) return math.ceil((i * inP + o * outP) / 1000000) end
local promptCost = cost(prompt, 0)
local maxTokens = modelMax
if requested >= 0 then maxTokens = requested end
local lowered = 0
if requested < 0 then
  if outP > 0 then
    local affordable = math.floor(((avail - promptCost) * 1000000) / outP)
    if affordable < maxTokens then
      maxTokens = math.max(0, affordable)
      lowered = 1
    end
  end
  if tpm >= 0 then
    -- Never below 1 for the window's sake: the hold's cap below lets a request larger than the room run once the window is empty.
    local room = tpm - tsum - estimate
    if room < maxTokens and room >= 1 then
      maxTokens = room
      lowered = 1
    end
  end
end
-- The window holds the estimate, never more than the whole limit (tpmHold in store.ts).
local held = 0
if tpm >= 0 then
  held = math.min(estimate + math.max(1, maxTokens), tpm)
  if tsum + held > tpm then return refuse('tpm', to + WINDOW_MS - now) end
end
-- A request that generates nothing (an embedding: requested 0) reserves its prompt alone.
if maxTokens < 1 and requested ~= 0 then return refuse(moneyReason, -1) end
local micros = cost(prompt, maxTokens)
if micros > avail then return refuse(moneyReason, -1) end
redis.call('ZADD', kkey .. ':rpm', now, rid)
redis.call('PEXPIRE', kkey .. ':rpm', WINDOW_MS * 2)
if tpm >= 0 then
  redis.call('ZADD', kkey .. ':tpm', now, rid)
  redis.call('HSET', kkey .. ':tpmv', rid, held)
  redis.call('PEXPIRE', kkey .. ':tpm', WINDOW_MS * 2)
  redis.call('PEXPIRE', kkey .. ':tpmv', WINDOW_MS * 2)
  tsum = redis.call('HINCRBY', kkey, 'tsum', held)
end
redis.call('HINCRBY', akey, 'reserved', micros)
redis.call('HINCRBY', mkey, 'reserved', micros)
redis.call('HSET', 'kg:r:' .. rid, 'u', user, 'k', keyId, 'm', micros, 't', held, 'p', period)
redis.call('ZADD', 'kg:res', now + ttl, rid)
-- The window now holds this admission too (no need to read it again).
if rc == 0 then ro = now end
rc = rc + 1
if tpm >= 0 then
  if tc == 0 then to = now end
  tc = tc + 1
end
local reply = {'ok', maxTokens, lowered, micros, rc, ro, tsum, tc, to, now}
for _, v in ipairs(cooling(now)) do reply[#reply + 1] = v end
return reply

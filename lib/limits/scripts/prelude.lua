-- Shared by the scripts that keep a window or end a reservation (redis.ts
-- puts it, after `local WINDOW_MS = …`, in front of each of them at load).

-- Redis's clock, so instances with drifting clocks still share one window.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function num(v) return tonumber(v) or 0 end

-- Where a key's money (spent, unflushed, reserved) is: its own hash for a lifetime budget (period start '0', '' or
-- nil), else one hash per budget period, kg:k:<key>:p:<period start ms>, so a new period starts from zero with nothing
-- to reset, and a request admitted in one period is charged to it whenever it settles.
local function money_key(kkey, period)
  if period and period ~= '' and period ~= '0' then return kkey .. ':p:' .. period end
  return kkey
end

-- Drops admissions and token holds that left the window; returns the key's token sum (0 without a tpm limit: not read).
local function trim(kkey, now, tpm)
  local cutoff = now - WINDOW_MS
  redis.call('ZREMRANGEBYSCORE', kkey .. ':rpm', '-inf', cutoff)
  if tpm < 0 then return 0 end
  if redis.call('EXISTS', kkey .. ':tpm') == 0 then
    -- No hold in the window. Also when the sets expired (two idle windows after the last admission) before any
    -- call trimmed them: their tokens went with them, so the sum must not keep them forever.
    if num(redis.call('HGET', kkey, 'tsum')) ~= 0 then redis.call('HSET', kkey, 'tsum', 0) end
    return 0
  end
  local old = redis.call('ZRANGEBYSCORE', kkey .. ':tpm', '-inf', cutoff)
  local removed = 0
  local i = 1
  while i <= #old do
    local chunk = {}
    for j = i, math.min(i + 499, #old) do chunk[#chunk + 1] = old[j] end
    local vals = redis.call('HMGET', kkey .. ':tpmv', unpack(chunk))
    for _, v in ipairs(vals) do removed = removed + num(v) end
    redis.call('HDEL', kkey .. ':tpmv', unpack(chunk))
    redis.call('ZREM', kkey .. ':tpm', unpack(chunk))
    i = i + 500
  end
  if removed ~= 0 then return redis.call('HINCRBY', kkey, 'tsum', 0 - removed) end
  return num(redis.call('HGET', kkey, 'tsum'))
end

-- The window's raw figures: count and oldest of admissions, count and oldest of holds (holds only with a tpm limit).
local function window(kkey, tpm)
  local rc = redis.call('ZCARD', kkey .. ':rpm')
  local ro = redis.call('ZRANGE', kkey .. ':rpm', 0, 0, 'WITHSCORES')
  if tpm < 0 then return rc, num(ro[2]), 0, 0 end
  local tc = redis.call('ZCARD', kkey .. ':tpm')
  local to = redis.call('ZRANGE', kkey .. ':tpm', 0, 0, 'WITHSCORES')
  return rc, num(ro[2]), tc, num(to[2])
end

-- USAGE (put in front with WINDOW_MS): the stream of usage records on their way to the database (kg:usage unless
-- KEYGATE_USAGE_STREAM says otherwise); lib/usage/writer.ts reads it with the consumer group 'writers'.

-- Ends reservation rid: gives back its money; its token hold becomes 'tokens' (0 drops it). cost < 0: release.
-- A settlement's usage record ('' for none) joins the stream in the same step as its cost joins unflushed, so a
-- crash of the instance that settled it can lose neither without the other: whichever instance writes the record
-- moves the cost out of unflushed when it acknowledges it (acked.lua).
-- A reservation already swept (its holder stalled past the TTL) left a marker: its cost is still counted, once.
-- A reservation gone without a marker was settled already: this is a retry of a script whose first answer was lost
-- (a timeout), and its record is in the stream from the first run. Counting it again would count it twice, so only
-- a free record (a subscription key's, cost 0, which has no reservation) is added; a duplicate of one moves no money
-- and the database writes its id once.
-- Amounts are negated as 0 - x: Lua's -0 reaches Redis as "-0", which HINCRBY refuses.
local function finish(rid, cost, tokens, record)
  local r = redis.call('HMGET', 'kg:r:' .. rid, 'u', 'k', 'm', 't', 'p')
  if not r[1] then
    local swept = redis.call('HMGET', 'kg:rs:' .. rid, 'u', 'k', 'p')
    if not swept[1] then
      if cost == 0 and record ~= '' then redis.call('XADD', USAGE, '*', 'r', record) end
      return 0
    end
    redis.call('DEL', 'kg:rs:' .. rid)
    if cost > 0 then
      if redis.call('HEXISTS', 'kg:a:' .. swept[1], 'balance') == 1 then redis.call('HINCRBY', 'kg:a:' .. swept[1], 'unflushed', cost) end
      local smkey = money_key('kg:k:' .. swept[2], swept[3])
      if redis.call('HEXISTS', smkey, 'spent') == 1 then redis.call('HINCRBY', smkey, 'unflushed', cost) end
      if smkey ~= 'kg:k:' .. swept[2] and redis.call('HEXISTS', 'kg:k:' .. swept[2], 'spent') == 1 then
        redis.call('HINCRBY', 'kg:k:' .. swept[2], 'unflushed', cost)
      end
    end
    if cost >= 0 and record ~= '' then redis.call('XADD', USAGE, '*', 'r', record) end
    return 0
  end
  redis.call('DEL', 'kg:r:' .. rid)
  redis.call('ZREM', 'kg:res', rid)
  local akey = 'kg:a:' .. r[1]
  local kkey = 'kg:k:' .. r[2]
  local mkey = money_key(kkey, r[5])
  local m = num(r[3])
  if redis.call('HEXISTS', akey, 'balance') == 1 then
    redis.call('HINCRBY', akey, 'reserved', 0 - m)
    if cost > 0 then redis.call('HINCRBY', akey, 'unflushed', cost) end
  end
  if redis.call('HEXISTS', mkey, 'spent') == 1 then
    redis.call('HINCRBY', mkey, 'reserved', 0 - m)
    if cost > 0 then redis.call('HINCRBY', mkey, 'unflushed', cost) end
  end
  -- A period's spend is also the key's lifetime spend (kept when seeded: read if its period is cleared).
  if cost > 0 and mkey ~= kkey and redis.call('HEXISTS', kkey, 'spent') == 1 then redis.call('HINCRBY', kkey, 'unflushed', cost) end
  local held = num(r[4])
  if held > 0 and redis.call('ZSCORE', kkey .. ':tpm', rid) then
    if tokens > 0 then
      redis.call('HSET', kkey .. ':tpmv', rid, tokens)
    else
      redis.call('HDEL', kkey .. ':tpmv', rid)
      redis.call('ZREM', kkey .. ':tpm', rid)
    end
    redis.call('HINCRBY', kkey, 'tsum', tokens - held)
  end
  if cost >= 0 and record ~= '' then redis.call('XADD', USAGE, '*', 'r', record) end
  return 1
end

-- Upstreams cooling down after 'now', as name, milliseconds left, name, … (appended to admission and lease replies).
local function cooling(now)
  local out = {}
  local c = redis.call('ZRANGEBYSCORE', 'kg:cool', now + 1, '+inf', 'WITHSCORES')
  for i = 1, #c, 2 do
    out[#out + 1] = c[i]
    out[#out + 1] = tonumber(c[i + 1]) - now
  end
  return out
end

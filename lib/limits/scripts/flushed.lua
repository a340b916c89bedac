-- Usage written to the database: it leaves unflushed and joins the settled balance and spend, once per batch.
-- ARGV: batchId, then (userId, keyId, cost, periodStart) quadruples (periodStart 0: lifetime; see money_key in prelude.lua)
if not redis.call('SET', 'kg:fl:' .. ARGV[1], '1', 'NX', 'PX', 3600000) then return 0 end
for i = 2, #ARGV, 4 do
  local akey, c = 'kg:a:' .. ARGV[i], tonumber(ARGV[i + 2])
  local kkey = 'kg:k:' .. ARGV[i + 1]
  if ARGV[i + 3] ~= '0' then
    -- A period's spend is also the key's lifetime spend (kept when seeded: read if its period is cleared).
    if redis.call('HEXISTS', kkey, 'spent') == 1 then
      redis.call('HINCRBY', kkey, 'unflushed', 0 - c)
      redis.call('HINCRBY', kkey, 'spent', c)
    end
    kkey = kkey .. ':p:' .. ARGV[i + 3]
  end
  redis.call('INCR', 'kg:ag:' .. ARGV[i])
  redis.call('INCR', 'kg:kg:' .. ARGV[i + 1])
  if redis.call('HEXISTS', akey, 'balance') == 1 then
    redis.call('HINCRBY', akey, 'unflushed', 0 - c)
    redis.call('HINCRBY', akey, 'balance', 0 - c)
  end
  if redis.call('HEXISTS', kkey, 'spent') == 1 then
    redis.call('HINCRBY', kkey, 'unflushed', 0 - c)
    redis.call('HINCRBY', kkey, 'spent', c)
  end
end
return 1

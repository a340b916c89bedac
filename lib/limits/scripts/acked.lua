-- Usage records written to the database: each leaves the stream, and on its first acknowledgement only (XACK answers 1
-- once per entry, whichever writer sends it) its cost leaves unflushed and joins the settled balance and spend. Two
-- writers that both wrote an entry (one claimed it from the other, which was slow, not dead) move its money once.
-- ARGV: (streamId, userId, keyId, cost, periodStart) quintuples (periodStart 0: lifetime)
local moved = 0
for i = 1, #ARGV, 5 do
  local c = tonumber(ARGV[i + 3])
  if redis.call('XACK', USAGE, 'writers', ARGV[i]) == 1 then
    moved = moved + 1
    if c ~= 0 then
      local akey, kkey = 'kg:a:' .. ARGV[i + 1], money_key('kg:k:' .. ARGV[i + 2], ARGV[i + 4])
      -- A period's spend is also the key's lifetime spend (kept when seeded: read if its period is cleared).
      if kkey ~= 'kg:k:' .. ARGV[i + 2] and redis.call('HEXISTS', 'kg:k:' .. ARGV[i + 2], 'spent') == 1 then
        redis.call('HINCRBY', 'kg:k:' .. ARGV[i + 2], 'unflushed', 0 - c)
        redis.call('HINCRBY', 'kg:k:' .. ARGV[i + 2], 'spent', c)
      end
      redis.call('INCR', 'kg:ag:' .. ARGV[i + 1])
      redis.call('INCR', 'kg:kg:' .. ARGV[i + 2])
      if redis.call('HEXISTS', akey, 'balance') == 1 then
        redis.call('HINCRBY', akey, 'unflushed', 0 - c)
        redis.call('HINCRBY', akey, 'balance', 0 - c)
      end
      if redis.call('HEXISTS', kkey, 'spent') == 1 then
        redis.call('HINCRBY', kkey, 'unflushed', 0 - c)
        redis.call('HINCRBY', kkey, 'spent', c)
      end
    end
  end
  -- Gone from the stream once written, so its length is the records still waiting.
  redis.call('XDEL', USAGE, ARGV[i])
end
return moved

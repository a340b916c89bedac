-- Reserves money of an account for a charge about to be written (a subscription).
-- ARGV: userId, holdId, micros, ttlMs
local akey = 'kg:a:' .. ARGV[1]
local a = redis.call('HMGET', akey, 'balance', 'unflushed', 'reserved')
if not a[1] then return {'unseeded'} end
local micros = tonumber(ARGV[3])
local avail = num(a[1]) - num(a[2]) - num(a[3])
if avail < micros then return {'short', math.max(0, avail)} end
redis.call('HINCRBY', akey, 'reserved', micros)
redis.call('HSET', 'kg:r:' .. ARGV[2], 'u', ARGV[1], 'k', '', 'm', micros, 't', 0)
redis.call('ZADD', 'kg:res', now_ms() + tonumber(ARGV[4]), ARGV[2])
return {'ok'}

-- Puts an upstream in cooldown for ARGV[2] ms from Redis's clock, keeping a longer one already running; forgets ended ones.
-- ARGV: upstream, ms
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', 'kg:cool', '-inf', now)
redis.call('ZADD', 'kg:cool', 'GT', now + tonumber(ARGV[2]), ARGV[1])
return 1

-- Extends a reservation's life (never shortens it).
-- ARGV: requestId, ttlMs
if redis.call('EXISTS', 'kg:r:' .. ARGV[1]) == 0 then return 0 end
redis.call('ZADD', 'kg:res', 'GT', now_ms() + tonumber(ARGV[2]), ARGV[1])
return 1

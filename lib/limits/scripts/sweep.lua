-- Releases up to ARGV[1] reservations whose TTL passed (their holder never came back).
-- ARGV: limit
local due = redis.call('ZRANGEBYSCORE', 'kg:res', '-inf', now_ms(), 'LIMIT', 0, tonumber(ARGV[1]))
for _, rid in ipairs(due) do
  local r = redis.call('HMGET', 'kg:r:' .. rid, 'u', 'k', 'p')
  if finish(rid, -1, 0, '') == 0 then
    redis.call('ZREM', 'kg:res', rid)
  elseif r[1] then
    -- Its holder may still settle late (it stalled, not crashed): that cost and its record must count, once. A day, so a
    -- settlement retried while Redis was unreachable for hours is still told from a retry of one already applied.
    redis.call('HSET', 'kg:rs:' .. rid, 'u', r[1], 'k', r[2], 'p', r[3] or '0')
    redis.call('PEXPIRE', 'kg:rs:' .. rid, 86400000)
  end
end
return #due

-- A committed ledger change: moves the account's generation, and its balance when seeded.
-- ARGV: userId, delta
redis.call('INCR', 'kg:ag:' .. ARGV[1])
if redis.call('HEXISTS', 'kg:a:' .. ARGV[1], 'balance') == 1 then
  redis.call('HINCRBY', 'kg:a:' .. ARGV[1], 'balance', ARGV[2])
end
return 1

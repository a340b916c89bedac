-- Seeds an account's or a key's settled figures, unless present already or their generation moved since it was read.
-- KEYS: the hash, the generation. ARGV: generation, expireAt (ms; 0: never: a budget period's hash goes a day after
-- the period ends), field=value pairs
-- Seeded when its first field (balance, spent) is there: a key's hash may hold only its window's tsum so far.
if redis.call('HEXISTS', KEYS[1], ARGV[3]) == 1 then return 1 end
if tonumber(redis.call('GET', KEYS[2]) or '0') ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
if tonumber(ARGV[2]) > 0 then redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
return 1

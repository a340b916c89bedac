-- Seeds an account's or a key's settled figures, unless present already or their generation moved since it was read.
-- KEYS: the hash, the generation. ARGV: generation, field=value pairs
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
if tonumber(redis.call('GET', KEYS[2]) or '0') ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1

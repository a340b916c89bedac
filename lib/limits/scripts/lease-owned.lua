-- Renews or releases a lease, only for the holder that has it.
-- ARGV: keyId, holder, ttlMs (0: release)
local lease = 'kg:l:' .. ARGV[1]
if redis.call('GET', lease) ~= ARGV[2] then return 0 end
if tonumber(ARGV[3]) > 0 then redis.call('PEXPIRE', lease, tonumber(ARGV[3])) else redis.call('DEL', lease) end
return 1

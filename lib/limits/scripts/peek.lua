-- What a key has left, without reserving anything.
-- ARGV: userId, keyId, tpm (-1: none), periodStart (0: lifetime)
local akey, kkey = 'kg:a:' .. ARGV[1], 'kg:k:' .. ARGV[2]
local a = redis.call('HMGET', akey, 'balance', 'unflushed', 'reserved')
local k = redis.call('HMGET', money_key(kkey, ARGV[4]), 'spent', 'unflushed', 'reserved')
if not a[1] or not k[1] then return {'unseeded'} end
local now = now_ms()
local tpm = tonumber(ARGV[3])
local tsum = trim(kkey, now, tpm)
local rc, ro, tc, to = window(kkey, tpm)
return {'ok', num(a[1]) - num(a[2]) - num(a[3]), num(k[1]) + num(k[2]) + num(k[3]), rc, ro, tsum, tc, to, now}

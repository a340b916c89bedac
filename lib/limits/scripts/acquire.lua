-- Takes a subscription key's one slot, unless another holder has it.
-- ARGV: revision, keyId, holder, ttlMs
local current = tonumber(redis.call('GET', 'kg:rev') or '0')
if current ~= tonumber(ARGV[1]) then return {'stale', current} end
local lease = 'kg:l:' .. ARGV[2]
local holder = redis.call('GET', lease)
if holder and holder ~= ARGV[3] then return {'busy', redis.call('PTTL', lease)} end
redis.call('SET', lease, ARGV[3], 'PX', tonumber(ARGV[4]))
local reply = {'ok'}
for _, v in ipairs(cooling(now_ms())) do reply[#reply + 1] = v end
return reply

-- Settles or releases reservations, and adds their usage records to the stream (see finish in prelude.lua).
-- ARGV: (requestId, cost (-1: release), tokens, record ('': none)) quadruples
for i = 1, #ARGV, 4 do finish(ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), ARGV[i + 3]) end
return 1

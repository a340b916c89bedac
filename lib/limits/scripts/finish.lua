-- Settles or releases reservations (see finish in prelude.lua).
-- ARGV: (requestId, cost (-1: release), tokens) triples
for i = 1, #ARGV, 3 do finish(ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])) end
return 1

--[[
storeRegister (Redis Cluster): registers namespaces in the registry, in the order given, each with a fresh
registration sequence drawn from the clock (a later registration always has a larger sequence, so a retirement
that read an older one can no longer remove it).

KEYS[1] names  ZSET namespace members (scores 0)
KEYS[2] seq    HASH member -> registration sequence
KEYS[3] clock  STRING registration sequence counter

ARGV[1], ARGV[2], ...: namespace members

Result: the registration sequences, in ARGV order.

Errors: none.
]]
local namesKey, seqKey, clockKey = KEYS[1], KEYS[2], KEYS[3]
local out = {}
for i = 1, #ARGV do
  local seq = redis.call("INCR", clockKey)
  redis.call("HSET", seqKey, ARGV[i], seq)
  redis.call("ZADD", namesKey, 0, ARGV[i])
  out[i] = seq
end
return out

--[[
storeRegister (Redis Cluster): registers namespaces in one registry bucket, in the order given. Each gets a
registration sequence: the one the client proposes (its clock in microseconds, increasing, above every sequence it
has seen), raised above every sequence this bucket issued before, so a later registration of a namespace always has
a larger sequence than its earlier ones (a retirement that read an older one can no longer remove it).

KEYS[1] names  ZSET namespace members of the bucket (scores 0)
KEYS[2] seq    HASH member -> registration sequence
KEYS[3] clock  STRING highest sequence the bucket has issued

ARGV[1], ARGV[2], ...: pairs of namespace member, proposed sequence (integer)

Result: the registration sequences, in member order.

Errors: none.
]]
-- @include int
local namesKey, seqKey, clockKey = KEYS[1], KEYS[2], KEYS[3]
local clock = tonumber(redis.call("GET", clockKey)) or 0
local out = {}
for i = 1, #ARGV, 2 do
  local seq = math.max(tonumber(ARGV[i + 1]) or 0, clock + 1)
  clock = seq
  redis.call("HSET", seqKey, ARGV[i], int(seq))
  redis.call("ZADD", namesKey, 0, ARGV[i])
  out[#out + 1] = seq
end
redis.call("SET", clockKey, int(clock))
return out

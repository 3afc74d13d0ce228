--[[
storeUnregister (Redis Cluster): drops namespaces from one registry bucket, each only if its registration sequence is
still the one the caller saw retire (a writer that registered it again since then keeps it).

KEYS[1] names  ZSET namespace members (scores 0)
KEYS[2] seq    HASH member -> registration sequence

ARGV[1], ARGV[2], ...: pairs of member, registration sequence

Result: number of namespaces dropped.

Errors: none.
]]
local namesKey, seqKey = KEYS[1], KEYS[2]
local dropped = 0
for i = 1, #ARGV, 2 do
  local current = redis.call("HGET", seqKey, ARGV[i])
  if current == false or tonumber(current) == tonumber(ARGV[i + 1]) then
    redis.call("HDEL", seqKey, ARGV[i])
    if redis.call("ZREM", namesKey, ARGV[i]) == 1 then dropped = dropped + 1 end
  end
end
return dropped

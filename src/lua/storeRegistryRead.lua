--[[
storeRegistryRead: the registered namespaces of one registry bucket in one lexicographic range, with their
registration sequences (search orders namespaces by it; on Redis Cluster it is also the epoch a retirement compares
against). Readers send one call per bucket and merge the replies.

KEYS[1] names  ZSET namespace members (scores 0)
KEYS[2] seq    HASH member -> registration sequence

ARGV[1] ZRANGEBYLEX min (e.g. "-" or "[a")
ARGV[2] ZRANGEBYLEX max (e.g. "+" or "(a\1")
ARGV[3] optional: at most this many members (the sweep walks the registry in steps)

Result: flat {member, seq, member, seq, ...} in byte order of the members.

Errors: none.
]]
local namesKey, seqKey = KEYS[1], KEYS[2]
local members
if ARGV[3] then
  members = redis.call("ZRANGEBYLEX", namesKey, ARGV[1], ARGV[2], "LIMIT", 0, tonumber(ARGV[3]))
else
  members = redis.call("ZRANGEBYLEX", namesKey, ARGV[1], ARGV[2])
end
local out = {}
for i = 1, #members, 500 do
  local chunk = {}
  for j = i, math.min(i + 499, #members) do chunk[#chunk + 1] = members[j] end
  local seqs = redis.call("HMGET", seqKey, unpack(chunk))
  for j = 1, #chunk do
    out[#out + 1] = chunk[j]
    out[#out + 1] = seqs[j] or "0"
  end
end
return out

--[[
storeRegistryRead: the registered namespaces of one or more registry buckets in one lexicographic range, with their
registration sequences (search orders namespaces by it; on Redis Cluster it is also the epoch a retirement compares
against). On a standalone server one call reads every bucket; on Redis Cluster each bucket has its own slot, so
readers send one call per bucket. The caller merges the replies (in byte order of the members).

KEYS[1] names  ZSET namespace members of a bucket (scores 0)
KEYS[2] seq    HASH member -> registration sequence (same bucket)
KEYS[3], KEYS[4], ...: more buckets, names and seq in turn

ARGV[1] ZRANGEBYLEX min (e.g. "-" or "[a")
ARGV[2] ZRANGEBYLEX max (e.g. "+" or "(a\1")
ARGV[3] optional: at most this many members per bucket (the sweep walks the registry in steps)

Result: flat {member, seq, member, seq, ...}, bucket after bucket, each in byte order of its members.

Errors: none.
]]
local out = {}
for k = 1, #KEYS, 2 do
  local namesKey, seqKey = KEYS[k], KEYS[k + 1]
  local members
  if ARGV[3] then
    members = redis.call("ZRANGEBYLEX", namesKey, ARGV[1], ARGV[2], "LIMIT", 0, tonumber(ARGV[3]))
  else
    members = redis.call("ZRANGEBYLEX", namesKey, ARGV[1], ARGV[2])
  end
  for i = 1, #members, 500 do
    local chunk = {}
    for j = i, math.min(i + 499, #members) do chunk[#chunk + 1] = members[j] end
    local seqs = redis.call("HMGET", seqKey, unpack(chunk))
    for j = 1, #chunk do
      out[#out + 1] = chunk[j]
      out[#out + 1] = seqs[j] or "0"
    end
  end
end
return out

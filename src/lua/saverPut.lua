--[[
  saverPut: stores one checkpoint atomically: its new channel blobs, its record and both index entries, then
  refreshes the TTL of every key of the thread. Bytes arrive serialised; this script only moves them.

  KEYS[1] checkpoints   HASH  ns\0id -> framed checkpoint record; its first part is the refs text
                        ("parentId\nchannel\0version\n...", escaped parts) that saverRead reads to find the blobs
  KEYS[2] blobs         HASH  ns\0channel\0version -> framed channel value
  KEYS[3] byNamespace   ZSET  ns\0id (score 0)
  KEYS[4] byId          ZSET  id\0ns (score 0)
  KEYS[5] writes        HASH  (TTL refresh only)
  KEYS[6] writesIndex   ZSET  (TTL refresh only)
  KEYS[7] threadIndex   ZSET  optional: the cross-thread index (thread id -> server time in ms of its last write),
                        passed only where it shares the thread's slot (a standalone server); on a cluster the
                        client touches it with saverTouchThread instead

  ARGV[1] ttlMs         thread TTL in milliseconds; "0" leaves TTLs alone
  ARGV[2] field         ns\0id (also the byNamespace member)
  ARGV[3] idMember      id\0ns
  ARGV[4] record        framed checkpoint record (bytes)
  ARGV[5] threadId      the thread id (raw string), for KEYS[7]
  ARGV[6] graceMs       with KEYS[7] and ttlMs: extra margin (ms) before an idle index entry is trimmed
  ARGV[7..]             pairs of (blob field, framed blob); a blob already stored for that (channel, version) is
                        kept: versions are unique per value, so an existing one holds the same bytes

  Result: the number of blobs newly stored (integer).

  Errors: none (a key of another Redis type fails with WRONGTYPE, reported as CorruptCheckpointError).
]]
-- @include finishThreadWrite

local checkpoints, blobs, byNamespace, byId = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local ttlMs = tonumber(ARGV[1])
local field, idMember, record = ARGV[2], ARGV[3], ARGV[4]

local stored = 0
for i = 7, #ARGV, 2 do
  stored = stored + redis.call("HSETNX", blobs, ARGV[i], ARGV[i + 1])
end
redis.call("HSET", checkpoints, field, record)
redis.call("ZADD", byNamespace, 0, field)
redis.call("ZADD", byId, 0, idMember)

finishThreadWrite(ttlMs, KEYS[7], ARGV[5], tonumber(ARGV[6]))
return stored

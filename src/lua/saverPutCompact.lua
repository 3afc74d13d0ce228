--[[
  saverPutCompact: saverPut for the common put, one that needs no thread TTL, lease fence, run index or retention:
  stores one checkpoint atomically (its new channel blobs, its record and its byNamespace entry, include
  putCheckpoint), converts what earlier releases stored for the thread when the client asks (include legacyLayout),
  and, on a standalone server, records the thread's activity in the cross-thread index. Only the keys and arguments
  those writes need: each one costs the client and the server on every call.

  KEYS[1] checkpoints   HASH  ns\0id -> framed checkpoint record (see saverPut)
  KEYS[2] blobs         HASH  ns\0channel\0version -> framed channel value
  KEYS[3] byNamespace   ZSET  ns\0id (score 0)
  KEYS[4] threadIndex   ZSET  optional: the cross-thread index, as in saverPut (standalone only)
  KEYS[4|5] byId        ZSET  only with ARGV[4] "1", always the last key (KEYS[4] on a cluster, where no index key
                        comes before it): earlier releases' second index, deleted (include legacyLayout)

  ARGV[1] field         ns\0id (also the byNamespace member)
  ARGV[2] record        framed checkpoint record (bytes)
  ARGV[3] threadId      the thread id (raw string), for the index key
  ARGV[4] upgrade       "1": convert what earlier releases stored for this thread (the client asks at the first put
                        of a thread in its process), else ""
  ARGV[5..]             pairs of (blob field, framed blob), as saverPut's ARGV[11..]

  Result: the number of blobs newly stored (integer); or -i when the delta blob of pair i (1 for the first) names a
  base that is not stored with that length: the writer then sends full copies. Nothing is written in that case.

  Errors: a key of another Redis type fails with WRONGTYPE, reported as CorruptCheckpointError.

  Audit (optional, see include auditOutbox): event checkpoint (field blobs: the number newly stored).
]]
-- @include auditOutbox
-- @include putCheckpoint
-- @include touchThreadIndex

local stored = putCheckpoint(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], 5)
if stored < 0 then return stored end
local threadIndex = KEYS[4]
if ARGV[4] == "1" then
  -- The rare path defines its function only when it runs (indented include).
  -- @include legacyLayout
  upgradeLegacyLayout(KEYS[#KEYS])
  if #KEYS == 4 then threadIndex = nil end
end
if threadIndex then
  -- A wrong-typed index key must not fail the thread's write (see include finishThreadWrite).
  touchThreadIndex(threadIndex, ARGV[3], true, KEYS[3])
end
auditEvent("checkpoint", "blobs", stored)
return stored

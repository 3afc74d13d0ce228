--[[
  saverPutCompact: saverPut for the common put, one that needs no thread TTL, lease fence, run index, retention or
  legacy upgrade: stores one checkpoint atomically (its new channel blobs, its record and its byNamespace entry,
  include putCheckpoint) and, on a standalone server, records the thread's activity in the cross-thread index. Only
  the keys and arguments those writes need: each one costs the client and the server on every call.

  KEYS[1] checkpoints   HASH  ns\0id -> framed checkpoint record (see saverPut)
  KEYS[2] blobs         HASH  ns\0channel\0version -> framed channel value
  KEYS[3] byNamespace   ZSET  ns\0id (score 0)
  KEYS[4] threadIndex   ZSET  optional: the cross-thread index, as in saverPut (standalone only)

  ARGV[1] field         ns\0id (also the byNamespace member)
  ARGV[2] record        framed checkpoint record (bytes)
  ARGV[3] threadId      the thread id (raw string), for KEYS[4]
  ARGV[4..]             pairs of (blob field, framed blob), as saverPut's ARGV[11..]

  Result: the number of blobs newly stored (integer); or -i when the delta blob of pair i (1 for the first) names a
  base that is not stored with that length: the writer then sends full copies. Nothing is written in that case.

  Errors: a key of another Redis type fails with WRONGTYPE, reported as CorruptCheckpointError.

  Audit (optional, see include auditOutbox): event checkpoint (field blobs: the number newly stored).
]]
-- @include auditOutbox
-- @include putCheckpoint
-- @include touchThreadIndex

local stored = putCheckpoint(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], 4)
if stored < 0 then return stored end
if KEYS[4] then
  -- A wrong-typed index key must not fail the thread's write (see include finishThreadWrite).
  touchThreadIndex(KEYS[4], ARGV[3], true, KEYS[3])
end
auditEvent("checkpoint", "blobs", stored)
return stored

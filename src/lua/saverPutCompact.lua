--[[
  saverPutCompact: saverPut for the common put, one that needs no thread TTL, lease fence, run index or retention:
  stores one checkpoint atomically (its new channel blobs, its record and its byNamespace entry, include
  putCheckpoint), converts what earlier releases stored for the thread when the client asks (include legacyLayout),
  and, on a standalone server, records the thread's activity in the cross-thread index. Only the keys and arguments
  those writes need: each one costs the client and the server on every call.

  The index entry is refreshed when the client says so (flag "t": about once a second per thread and process, see
  THREAD_TOUCH_EVERY_MS in src/saver/thread-keys.ts) and whenever the checkpoint is its thread's only one, the case
  saverForgetThread's check depends on (the thread was emptied, and list() may be about to drop its entry). On a
  cluster, where the entry lives in another slot, that case is answered {-2, stored} so the client refreshes it.

  KEYS[1] checkpoints   HASH  ns\0id -> framed checkpoint record (see saverPut)
  KEYS[2] blobs         HASH  ns\0channel\0version -> framed channel value
  KEYS[3] byNamespace   ZSET or LIST  ns\0id (include checkpointIndex; a new thread's is a LIST, or a ZSET with the
                        "z" flag)
  KEYS[4] threadIndex   ZSET  optional: the cross-thread index, as in saverPut (standalone only)
  KEYS[4|5] byId        ZSET  only with the "u" flag, always the last key (KEYS[4] on a cluster, where no index key
                        comes before it): earlier releases' second index, deleted (include legacyLayout)

  ARGV[1] field         ns\0id (also the byNamespace member)
  ARGV[2] record        framed checkpoint record (bytes)
  ARGV[3] threadId      the thread id (raw string), for the index key
  ARGV[4] flags         "u": convert what earlier releases stored for this thread (the client asks at the first put
                        of a thread in its process); "t": refresh the thread's index entry (standalone), or the
                        client refreshes it itself (cluster); "z": a new thread's byNamespace is a ZSET, as earlier
                        releases read it (the `compression: false` option); "l": the client has seen byNamespace be a
                        LIST, so the put does not ask its TYPE (include checkpointIndex); "" for none
  ARGV[5..]             pairs of (blob field, framed blob), as saverPut's ARGV[11..]

  Result: the number of blobs newly stored (integer); { -2, stored } on a cluster without the "t" flag when the
  checkpoint is its thread's only one; either wrapped as { -3, reply } when byNamespace is not a LIST (include
  putCheckpoint: the client stops sending "l"); or -i when the delta blob of pair i (1 for the first) names a base that
  is not stored with that length: the writer then sends full copies. Nothing is written in that case.

  Errors: a key of another Redis type fails with WRONGTYPE, reported as CorruptCheckpointError.

  Audit (optional, see include auditOutbox): event checkpoint (field blobs: the number newly stored).
]]
-- @include auditOutbox
-- @include putCheckpoint
-- @include touchThreadIndex

local flags = ARGV[4]
local stored = putCheckpoint(
  KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], 5, string.find(flags, "z", 1, true), string.find(flags, "l", 1, true)
)
if stored < 0 then return stored end
local threadIndex = KEYS[4]
if string.find(flags, "u", 1, true) then
  -- The rare path defines its function only when it runs (indented include).
  -- @include legacyLayout
  upgradeLegacyLayout(KEYS[#KEYS])
  if #KEYS == 4 then threadIndex = nil end
end
local due = string.find(flags, "t", 1, true)
auditEvent("checkpoint", "blobs", stored)
if threadIndex then
  if due or checkpointIndexCard(KEYS[3]) == 1 then
    -- A wrong-typed index key must not fail the thread's write (see include finishThreadWrite).
    touchThreadIndex(threadIndex, ARGV[3], true, KEYS[3])
  end
elseif not due and checkpointIndexCard(KEYS[3]) == 1 then
  return putCheckpointReply(KEYS[3], { -2, stored })
end
return putCheckpointReply(KEYS[3], stored)

--[[
  saverDeleteForRuns: removes from one thread every checkpoint the given runs wrote (found through the byRun index),
  with the pending writes stored against them, their index entries, and the blobs no remaining checkpoint of their
  namespace needs any more (include dropUnneededBlobs: a base stays while a kept blob leans on it). Atomic: a
  reader sees the thread before or after, never between. A thread left with no checkpoint loses every key.

  KEYS[1] checkpoints   HASH  ns\0id -> framed checkpoint record
  KEYS[2] blobs         HASH  ns\0channel\0version -> framed channel value
  KEYS[3] byNamespace   ZSET  ns\0id
  KEYS[4] byId          ZSET  (earlier releases; deleted with the rest when the thread is left empty)
  KEYS[5] writes        HASH  pending writes: a checkpoint's bundle ns\0id and overflow fields (include pendingWrites)
  KEYS[6] writesIndex   ZSET  the overflow fields
  KEYS[7] runFences     HASH  (untouched; deleted with the rest when the thread is left empty)
  KEYS[8] byRun         ZSET  runId\0ns\0id

  ARGV[1] fenceField    the caller's run fence field when the caller is a leased run removing what it wrote itself
                        (rollback), else ""
  ARGV[2] fenceToken    that run's lease token, else 0
  ARGV[3..]             escaped run ids

  Result: { checkpoints removed, writes removed, blobs removed }; or { -1, runId, ... } when a live leased run other
  than the caller (include liveRuns) is writing the thread: nothing is removed (ThreadLeasedError for the caller).

  Errors: the refusal above; a key of another Redis type fails with WRONGTYPE, reported as CorruptCheckpointError.

  Audit (optional, see include auditOutbox): event deleteForRuns (fields checkpoints, writes, blobs: the counts
  removed), when something was removed.
]]
-- @include auditOutbox
-- @include liveRuns
-- @include checkpointRefs
-- @include dropUnneededBlobs
-- @include pendingWrites

local liveRuns = liveRunsOn(KEYS[7], ARGV[1], ARGV[2])
if #liveRuns > 0 then return { -1, unpack(liveRuns) } end
local function removed(checkpointCount, writeCount, blobCount)
  if checkpointCount + writeCount + blobCount > 0 then
    auditEvent("deleteForRuns", "checkpoints", checkpointCount, "writes", writeCount, "blobs", blobCount)
  end
  return { checkpointCount, writeCount, blobCount }
end

local checkpoints, blobs, byNamespace, byId = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local writes, writesIndex, runFences, byRun = KEYS[5], KEYS[6], KEYS[7], KEYS[8]

local removedCheckpoints, removedWrites, removedBlobs = 0, 0, 0
-- Blob fields the removed checkpoints pointed at, per namespace: candidates for removal.
local candidates, touched = {}, {}

for i = 3, #ARGV do
  local members = redis.call("ZRANGE", byRun, "[" .. ARGV[i] .. "\0", "(" .. ARGV[i] .. "\1", "BYLEX")
  for _, member in ipairs(members) do
    local field = string.sub(member, #ARGV[i] + 2)
    local cut = string.find(field, "\0", 1, true)
    local ns, id = string.sub(field, 1, cut - 1), string.sub(field, cut + 1)
    local record = redis.call("HGET", checkpoints, field)
    if record then
      candidates[ns] = candidates[ns] or {}
      touched[#touched + 1] = ns
      for _, blobField in ipairs(checkpointBlobFields(ns, refsOf(record))) do
        candidates[ns][blobField] = true
      end
      removedCheckpoints = removedCheckpoints + redis.call("HDEL", checkpoints, field)
    end
    redis.call("ZREM", byNamespace, field)
    removedWrites = removedWrites + pendingWritesRemove(field)
    redis.call("ZREM", byRun, member)
  end
end

if redis.call("ZCARD", byNamespace) == 0 then
  removedBlobs = redis.call("HLEN", blobs)
  removedWrites = removedWrites + pendingWritesCountAll()
  redis.call("DEL", checkpoints, blobs, byNamespace, byId, writes, writesIndex, runFences, byRun)
  return removed(removedCheckpoints, removedWrites, removedBlobs)
end

removedBlobs = dropUnneededBlobs(checkpoints, blobs, byNamespace, candidates, touched)
return removed(removedCheckpoints, removedWrites, removedBlobs)

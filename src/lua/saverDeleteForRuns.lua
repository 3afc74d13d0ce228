--[[
  saverDeleteForRuns: removes from one thread every checkpoint the given runs wrote (found through the byRun index),
  with the pending writes stored against them, their index entries, and the blobs no remaining checkpoint of their
  namespace needs any more (include dropUnneededBlobs: a base stays while a kept blob leans on it). Atomic: a
  reader sees the thread before or after, never between. A thread left with no checkpoint loses every key.

  KEYS[1] checkpoints   HASH  ns\0id -> framed checkpoint record
  KEYS[2] blobs         HASH  ns\0channel\0version -> framed channel value
  KEYS[3] byNamespace   ZSET  ns\0id
  KEYS[4] byId          ZSET  (earlier releases; deleted with the rest when the thread is left empty)
  KEYS[5] writes        HASH  ns\0id\0taskId\0idx -> framed pending write
  KEYS[6] writesIndex   ZSET  the writes fields
  KEYS[7] runFences     HASH  (untouched; deleted with the rest when the thread is left empty)
  KEYS[8] byRun         ZSET  runId\0ns\0id

  ARGV[1..]             escaped run ids

  Result: { checkpoints removed, writes removed, blobs removed }.

  Errors: none (a key of another Redis type fails with WRONGTYPE, reported as CorruptCheckpointError).
]]
-- @include checkpointRefs
-- @include dropUnneededBlobs

local checkpoints, blobs, byNamespace, byId = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local writes, writesIndex, runFences, byRun = KEYS[5], KEYS[6], KEYS[7], KEYS[8]

local removedCheckpoints, removedWrites, removedBlobs = 0, 0, 0
-- Blob fields the removed checkpoints pointed at, per namespace: candidates for removal.
local candidates, touched = {}, {}

for i = 1, #ARGV do
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
    local writeFields = redis.call("ZRANGE", writesIndex, "[" .. field .. "\0", "(" .. field .. "\1", "BYLEX")
    for from = 1, #writeFields, 1000 do
      local chunk = { unpack(writeFields, from, math.min(from + 999, #writeFields)) }
      removedWrites = removedWrites + redis.call("HDEL", writes, unpack(chunk))
      redis.call("ZREM", writesIndex, unpack(chunk))
    end
    redis.call("ZREM", byRun, member)
  end
end

if redis.call("ZCARD", byNamespace) == 0 then
  removedBlobs = redis.call("HLEN", blobs)
  removedWrites = removedWrites + redis.call("HLEN", writes)
  redis.call("DEL", checkpoints, blobs, byNamespace, byId, writes, writesIndex, runFences, byRun)
  return { removedCheckpoints, removedWrites, removedBlobs }
end

removedBlobs = dropUnneededBlobs(checkpoints, blobs, byNamespace, candidates, touched)
return { removedCheckpoints, removedWrites, removedBlobs }

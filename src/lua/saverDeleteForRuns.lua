--[[
  saverDeleteForRuns: removes from one thread every checkpoint the given runs wrote (found through the byRun index),
  with the pending writes stored against them, their index entries, and the blobs no remaining checkpoint of their
  namespace needs any more. A delta blob needs its base chain (include checkpointRefs, blobChain): a base stays
  while a kept blob leans on it, and the bases of removed delta blobs go with them when nothing else needs them. Atomic: a reader sees the thread before or after, never between. A thread left with no
  checkpoint loses every key.

  KEYS[1] checkpoints   HASH  ns\0id -> framed checkpoint record
  KEYS[2] blobs         HASH  ns\0channel\0version -> framed channel value
  KEYS[3] byNamespace   ZSET  ns\0id
  KEYS[4] byId          ZSET  id\0ns
  KEYS[5] writes        HASH  ns\0id\0taskId\0idx -> framed pending write
  KEYS[6] writesIndex   ZSET  the writes fields
  KEYS[7] runFences     HASH  (untouched; deleted with the rest when the thread is left empty)
  KEYS[8] byRun         ZSET  runId\0ns\0id

  ARGV[1..]             escaped run ids

  Result: { checkpoints removed, writes removed, blobs removed }.

  Errors: none (a key of another Redis type fails with WRONGTYPE, reported as CorruptCheckpointError).
]]
-- @include checkpointRefs

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
    redis.call("ZREM", byId, id .. "\0" .. ns)
    local writeFields = redis.call("ZRANGE", writesIndex, "[" .. field .. "\0", "(" .. field .. "\1", "BYLEX")
    for from = 1, #writeFields, 1000 do
      local chunk = { unpack(writeFields, from, math.min(from + 999, #writeFields)) }
      removedWrites = removedWrites + redis.call("HDEL", writes, unpack(chunk))
      redis.call("ZREM", writesIndex, unpack(chunk))
    end
    redis.call("ZREM", byRun, member)
  end
end

if redis.call("ZCARD", byId) == 0 then
  removedBlobs = redis.call("HLEN", blobs)
  removedWrites = removedWrites + redis.call("HLEN", writes)
  redis.call("DEL", checkpoints, blobs, byNamespace, byId, writes, writesIndex, runFences, byRun)
  return { removedCheckpoints, removedWrites, removedBlobs }
end

-- The namespace-and-channel prefix ("ns\0channel\0") of a blob field: a delta's bases share it.
local function channelOf(blobField)
  local cut = string.find(blobField, "%z[^%z]*$")
  return cut and string.sub(blobField, 1, cut) or blobField
end

-- Marks in `set` every base the listed delta blobs lean on; `seen` is shared so each chain is walked once.
local function addChains(list, set, seen)
  for _, blobField in ipairs(list) do
    local value = redis.call("HGET", blobs, blobField)
    if isDeltaBlob(value) then
      local chain = {}
      blobChain(blobs, blobField, value, seen, chain)
      for k = 1, #chain, 2 do
        set[chain[k]] = true
      end
    end
  end
end

-- A candidate blob (or a base a candidate leaned on) stays if a remaining checkpoint of its namespace still needs
-- it, directly or as the base of a blob it needs.
local done = {}
for _, ns in ipairs(touched) do
  if not done[ns] then
    done[ns] = true
    local candidateList, channels = {}, {}
    for blobField in pairs(candidates[ns]) do
      candidateList[#candidateList + 1] = blobField
      channels[channelOf(blobField)] = true
    end
    addChains(candidateList, candidates[ns], {})
    local needed = {}
    local fields = redis.call("ZRANGE", byNamespace, "[" .. ns .. "\0", "(" .. ns .. "\1", "BYLEX")
    for from = 1, #fields, 1000 do
      local records = redis.call("HMGET", checkpoints, unpack(fields, from, math.min(from + 999, #fields)))
      for _, record in ipairs(records) do
        if record then
          for _, blobField in ipairs(checkpointBlobFields(ns, refsOf(record))) do
            needed[blobField] = true
          end
        end
      end
    end
    -- Only needed blobs of a channel that lost blobs can lean on a candidate.
    local neededList = {}
    for blobField in pairs(needed) do
      if channels[channelOf(blobField)] then
        neededList[#neededList + 1] = blobField
      end
    end
    addChains(neededList, needed, {})
    for blobField in pairs(candidates[ns]) do
      if not needed[blobField] then
        removedBlobs = removedBlobs + redis.call("HDEL", blobs, blobField)
      end
    end
  end
end
return { removedCheckpoints, removedWrites, removedBlobs }

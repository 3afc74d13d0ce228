-- dropUnneededBlobs(checkpoints, blobs, byNamespace, candidates, touched): after checkpoints were removed from a
-- thread, deletes the blobs they pointed at that no remaining checkpoint of their namespace needs, directly or as a
-- delta base (include checkpointRefs, blobChain). candidates[ns] is the set (blob field -> true) of blob fields the
-- removed checkpoints of namespace ns pointed at; touched lists those namespaces (repeats allowed). The bases of
-- removed delta blobs go with them unless something else needs them. Returns the number of blobs deleted. Shared
-- by saverDeleteForRuns and the retention include, so both keep exactly what a kept checkpoint reads.
-- @include checkpointRefs
-- @include checkpointIndex

-- The namespace-and-channel prefix ("ns\0channel\0") of a blob field: a delta's bases share it.
local function blobChannelOf(blobField)
  local cut = string.find(blobField, "%z[^%z]*$")
  return cut and string.sub(blobField, 1, cut) or blobField
end

-- Marks in `set` every base the listed delta blobs lean on; `seen` is shared so each chain is walked once.
local function markBlobChains(blobs, list, set, seen)
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

local function dropUnneededBlobs(checkpoints, blobs, byNamespace, candidates, touched)
  local removed, done = 0, {}
  for _, ns in ipairs(touched) do
    if not done[ns] and candidates[ns] then
      done[ns] = true
      local candidateList, channels = {}, {}
      for blobField in pairs(candidates[ns]) do
        candidateList[#candidateList + 1] = blobField
        channels[blobChannelOf(blobField)] = true
      end
      markBlobChains(blobs, candidateList, candidates[ns], {})
      local needed = {}
      local fields = checkpointIndexRange(byNamespace, "[" .. ns .. "\0", "(" .. ns .. "\1")
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
        if channels[blobChannelOf(blobField)] then
          neededList[#neededList + 1] = blobField
        end
      end
      markBlobChains(blobs, neededList, needed, {})
      for blobField in pairs(candidates[ns]) do
        if not needed[blobField] then
          removed = removed + redis.call("HDEL", blobs, blobField)
        end
      end
    end
  end
  return removed
end

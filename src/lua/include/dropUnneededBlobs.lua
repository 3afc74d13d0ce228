-- dropUnneededBlobs(checkpoints, blobs, byNamespace, candidates, touched): after checkpoints were removed from a
-- thread, deletes the blobs they pointed at that no remaining checkpoint of their namespace needs, directly or as a
-- delta base (include checkpointRefs, blobChain). candidates[ns] is the set (blob field -> true) of blob fields the
-- removed checkpoints of namespace ns pointed at; touched lists those namespaces (repeats allowed). The bases of
-- removed delta blobs go with them unless something else needs them. Returns the number of blobs deleted. Shared
-- by saverDeleteForRuns and the retention include, so both keep exactly what a kept checkpoint reads.
-- The parts, for checks made in pages (saverCheckBlobs):
-- blobCandidatesWithBases(blobs, set): adds to `set` (blob field -> true) the bases its delta blobs lean on; returns
--   the set's fields as a list.
-- blobCheckChannels(ns, set): the channels of the blob fields in `set`, as { escaped name, field prefix
--   "ns\0channel\0" } pairs: only their blobs can be candidates or lean on one.
-- blobsNeededBy(checkpoints, blobs, fields, channels): the set of blob fields of those channels that the records
--   stored at `fields` (checkpoint fields) need, directly or as delta bases; the records are read in place.
-- @include checkpointRefs
-- @include checkpointIndex

-- The namespace-and-channel prefix ("ns\0channel\0") of a blob field: a delta's bases share it.
local function blobChannelOf(blobField)
  local cut = string.find(blobField, "%z[^%z]*$")
  return cut and string.sub(blobField, 1, cut) or blobField
end

-- Marks in `set` every base the listed delta blobs lean on; `seen` is shared so each chain is walked once. The
-- listed blobs come in HMGETs of a thousand (a namespace may need thousands), their bases one HGET each.
local function markBlobChains(blobs, list, set, seen)
  for from = 1, #list, 1000 do
    local values = redis.call("HMGET", blobs, unpack(list, from, math.min(from + 999, #list)))
    for k = 1, #values do
      if isDeltaBlob(values[k]) then
        local chain = {}
        blobChain(blobs, list[from + k - 1], values[k], seen, chain)
        for c = 1, #chain, 2 do
          set[chain[c]] = true
        end
      end
    end
  end
end

local function blobCandidatesWithBases(blobs, set)
  local list = {}
  for blobField in pairs(set) do
    list[#list + 1] = blobField
  end
  markBlobChains(blobs, list, set, {})
  list = {}
  for blobField in pairs(set) do
    list[#list + 1] = blobField
  end
  return list
end

local function blobCheckChannels(ns, set)
  local prefixes, channels = {}, {}
  for blobField in pairs(set) do
    local prefix = blobChannelOf(blobField)
    if not prefixes[prefix] then
      prefixes[prefix] = true
      channels[#channels + 1] = { string.sub(prefix, #ns + 2, #prefix - 1), prefix }
    end
  end
  return channels
end

local function blobsNeededBy(checkpoints, blobs, fields, channels)
  local needed, neededList = {}, {}
  for from = 1, #fields, 1000 do
    local records = redis.call("HMGET", checkpoints, unpack(fields, from, math.min(from + 999, #fields)))
    for _, record in ipairs(records) do
      if record then
        local first, last = refsBounds(record)
        for c = 1, #channels do
          local version = refsVersionAt(record, first, last, channels[c][1])
          if version then
            local blobField = channels[c][2] .. version
            if not needed[blobField] then
              needed[blobField] = true
              neededList[#neededList + 1] = blobField
            end
          end
        end
      end
    end
  end
  markBlobChains(blobs, neededList, needed, {})
  return needed
end

local function dropUnneededBlobs(checkpoints, blobs, byNamespace, candidates, touched)
  local removed, done = 0, {}
  for _, ns in ipairs(touched) do
    if not done[ns] and candidates[ns] then
      done[ns] = true
      local channels = blobCheckChannels(ns, candidates[ns])
      blobCandidatesWithBases(blobs, candidates[ns])
      -- Every remaining checkpoint of the namespace: its versions of those channels, read in place.
      local fields = checkpointIndexRange(byNamespace, "[" .. ns .. "\0", "(" .. ns .. "\1")
      local needed = blobsNeededBy(checkpoints, blobs, fields, channels)
      for blobField in pairs(candidates[ns]) do
        if not needed[blobField] then
          removed = removed + redis.call("HDEL", blobs, blobField)
        end
      end
    end
  end
  return removed
end

-- blobSweep: the mark of a thread whose unneeded blobs are left for prune()'s sweep (saverSweepBlobs). A prune step
-- that removes checkpoints from a namespace still holding many others (a long thread trimmed from its oldest end)
-- does not look for the blobs they leave unneeded: that would read every remaining record of the namespace at every
-- step, a cost that grows with the square of the history. It marks the thread instead, in its runFences hash (field
-- BLOB_SWEEP_FIELD, beside the fences, the pin and the history epoch), and the sweep pages through the blobs hash once
-- the namespaces are trimmed. Unneeded blobs are read by nothing in the meantime; a prune interrupted before its
-- sweep leaves the mark, and the next prune of the thread sweeps.
--
-- deleteForRuns leaves the check of a long namespace to pages too (saverCheckBlobs, driven by its client, which holds
-- the candidates): the mark "d<n>" counts the checks under way on the thread, so that one interrupted before its end
-- (its count never taken back) leaves the thread marked, and the thread's next prune sweeps it.
--
-- blobSweepMark(runFences, ttlFrom): marks the thread ("1"); with ttlFrom, a hash created here gets that key's TTL.
-- blobSweepMarkCheck(runFences, ttlFrom): counts one more check ("d1" when unmarked); a sweep's mark stays as it is.
-- blobSweepClearCheck(runFences): counts one check less, removing "d1" (a sweep marked since keeps its own).
-- blobSweepState(runFences): the mark's value: false for none, "1" for a sweep due, "2" for one whose pass left a
--   namespace unchecked (saverSweepBlobs keeps the mark then), "d<n>" for n deleteForRuns checks under way.
-- @include runFencesField
local BLOB_SWEEP_FIELD = "{sweep}"

local function blobSweepMark(runFences, ttlFrom)
  runFencesFieldSet(runFences, BLOB_SWEEP_FIELD, "1", ttlFrom)
end

local function blobSweepState(runFences)
  return redis.call("HGET", runFences, BLOB_SWEEP_FIELD)
end

-- The number of checks a "d<n>" mark counts; nil for any other state.
local function blobSweepChecks(state)
  return state and string.sub(state, 1, 1) == "d" and tonumber(string.sub(state, 2)) or nil
end

local function blobSweepMarkCheck(runFences, ttlFrom)
  local state = blobSweepState(runFences)
  local checks = blobSweepChecks(state)
  if not state or checks then
    runFencesFieldSet(runFences, BLOB_SWEEP_FIELD, "d" .. ((checks or 0) + 1), ttlFrom)
  end
end

local function blobSweepClearCheck(runFences)
  local checks = blobSweepChecks(blobSweepState(runFences))
  if checks == 1 then
    redis.call("HDEL", runFences, BLOB_SWEEP_FIELD)
  elseif checks then
    runFencesFieldSet(runFences, BLOB_SWEEP_FIELD, "d" .. (checks - 1))
  end
end

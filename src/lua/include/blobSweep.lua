-- blobSweep: the mark of a thread whose unneeded blobs are left for prune()'s sweep (saverSweepBlobs). A prune step
-- that removes checkpoints from a namespace still holding many others (a long thread trimmed from its oldest end)
-- does not look for the blobs they leave unneeded: that would read every remaining record of the namespace at every
-- step, a cost that grows with the square of the history. It marks the thread instead, in its runFences hash (field
-- BLOB_SWEEP_FIELD, beside the fences, the pin and the history epoch), and the sweep pages through the blobs hash once
-- the namespaces are trimmed. Unneeded blobs are read by nothing in the meantime; a prune interrupted before its
-- sweep leaves the mark, and the next prune of the thread sweeps.
--
-- deleteForRuns leaves the check of a long namespace to pages too (saverCheckBlobs, driven by its client, which holds
-- the candidates): it marks the thread "d" while they run, so that a check interrupted before its end is swept by the
-- thread's next prune.
--
-- blobSweepMark(runFences, ttlFrom): marks the thread ("1"); with ttlFrom, a hash created here gets that key's TTL.
-- blobSweepMarkCheck(runFences, ttlFrom): marks it "d" unless it carries a mark already.
-- blobSweepClearCheck(runFences): removes a "d" mark (a sweep marked since keeps its own).
-- blobSweepState(runFences): the mark's value: false for none, "1" for a sweep due, "2" for one whose pass left a
--   namespace unchecked (saverSweepBlobs keeps the mark then), "d" for a deleteForRuns check under way.
-- @include runFencesField
local BLOB_SWEEP_FIELD = "{sweep}"

local function blobSweepMark(runFences, ttlFrom)
  runFencesFieldSet(runFences, BLOB_SWEEP_FIELD, "1", ttlFrom)
end

local function blobSweepState(runFences)
  return redis.call("HGET", runFences, BLOB_SWEEP_FIELD)
end

local function blobSweepMarkCheck(runFences, ttlFrom)
  if not blobSweepState(runFences) then
    runFencesFieldSet(runFences, BLOB_SWEEP_FIELD, "d", ttlFrom)
  end
end

local function blobSweepClearCheck(runFences)
  if blobSweepState(runFences) == "d" then
    redis.call("HDEL", runFences, BLOB_SWEEP_FIELD)
  end
end

--[[
  saverImportThread: writes a whole thread exported by saverExportThread into a thread that has no data, in one
  script: the destination is either absent or complete, whatever happens to the client. Rebuilds the byNamespace
  (include checkpointIndex: a sorted LIST, or a ZSET with the "z" flag) and writesIndex indexes from the fields
  (writesIndex: the overflow fields, include pendingWrites), then sets the thread's TTL like a write.

  KEYS[1..8]            the destination's thread keys: checkpoints, blobs, byNamespace, byId, writes, writesIndex,
                        runFences, byRun (see saverPut); runFences is not checked (lease fences belong to the
                        runs of a thread, not to its data) and gets a new history epoch (include historyEpoch)
  KEYS[9] threadIndex   ZSET  optional: the cross-thread index (standalone; on a cluster the client touches it)

  ARGV[1] ttlMs         thread TTL in milliseconds; "0" leaves TTLs alone
  ARGV[2] threadId      the destination thread id (raw string), for KEYS[9]
  ARGV[3] graceMs       with KEYS[9] and ttlMs: extra margin (ms) before an idle index entry is trimmed
  ARGV[4] checkpoints   number of (field, record) pairs that follow first
  ARGV[5] blobs         number of (field, blob) pairs after them
  ARGV[6] writes        number of (field, write) pairs after them
  ARGV[7] runMembers    number of byRun members last
  ARGV[8] flags         "z": byNamespace is a ZSET, as earlier releases read it (the `compression: false` option),
                        else a LIST; "s": the source was marked for prune's blob sweep, and so is the destination
                        (include blobSweep)
  ARGV[9..]             the pairs and members, in that order; checkpoints in the byte order of their fields cost
                        the least (the index is then built without sorting)

  Result: the number of checkpoints written, or -1 when the destination already has a key (nothing written), or
  { -2, runId, ... } when a live leased run is writing the destination (include liveRuns: it raised its fence there
  and may not have written yet; nothing written, ThreadLeasedError for the caller).

  Errors: none (a key of another Redis type fails with WRONGTYPE, reported as CorruptCheckpointError).

  Audit (optional, see include auditOutbox): event copy (fields checkpoints, blobs, writes: the counts written; the
  source thread is in the event context), recorded in the destination's slot.
]]
-- @include auditOutbox
-- @include liveRuns
-- @include checkpointIndex
-- @include touchThreadIndex
-- @include finishThreadWrite
-- @include pendingWrites
-- @include historyEpoch
-- @include blobSweep

if redis.call("EXISTS", KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[8]) > 0 then
  return -1
end
local liveRuns = liveRunsOn(KEYS[7], "", 0)
if #liveRuns > 0 then return { -2, unpack(liveRuns) } end
local checkpoints, blobs, byNamespace = KEYS[1], KEYS[2], KEYS[3]
local byRun = KEYS[8]
local counts = { tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]) }
local runCount = tonumber(ARGV[7])

local at, writesCopied, ahead = 9, 0, 0
local fields = {}
for part = 1, 3 do
  for _ = 1, counts[part] do
    local field, value = ARGV[at], ARGV[at + 1]
    at = at + 2
    if part == 1 then
      redis.call("HSET", checkpoints, field, value)
      writesCopied = writesCopied + pendingWritesInRecord(value)
      -- Writes ahead of a checkpoint not put yet (include recordWrites) are copied as they are, and no checkpoint.
      if recordWritesAhead(value) then
        ahead = ahead + 1
      else
        fields[#fields + 1] = field
      end
    elseif part == 2 then
      redis.call("HSET", blobs, field, value)
    else
      writesCopied = writesCopied + pendingWritesImport(field, value)
    end
  end
end
checkpointIndexBuild(byNamespace, fields, string.find(ARGV[8], "z", 1, true) ~= nil)
for _ = 1, runCount do
  redis.call("ZADD", byRun, 0, ARGV[at])
  at = at + 1
end

-- A thread that stood here before may have had checkpoints of the same ids over other ancestors (include
-- historyEpoch): the TTL below covers the hash too.
historyEpochChange(KEYS[7])
if string.find(ARGV[8], "s", 1, true) then
  blobSweepMark(KEYS[7])
end
finishThreadWrite(ARGV[1], KEYS[9], ARGV[2])
auditEvent("copy", "checkpoints", counts[1] - ahead, "blobs", counts[2], "writes", writesCopied)
return counts[1] - ahead

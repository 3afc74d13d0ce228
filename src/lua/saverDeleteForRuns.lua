--[[
  saverDeleteForRuns: removes from one thread every checkpoint the given runs wrote (found through the byRun index),
  with the pending writes stored against them, their index entries, and the blobs no remaining checkpoint of their
  namespace needs any more (include dropUnneededBlobs: a base stays while a kept blob leans on it). Atomic: a
  reader sees the thread before or after, never between. A thread left with no checkpoint loses every key.
  A (run, namespace) member (include runIndex) is followed through the namespace's byNamespace entries from its
  firstId on, reading each record's run line in place, until `count` of the run's checkpoints were found or the
  namespace ends: the cost is the checkpoints from the run's first one in the namespace to its last. An earlier
  release's member names its checkpoint.

  KEYS[1] checkpoints   HASH  ns\0id -> framed checkpoint record
  KEYS[2] blobs         HASH  ns\0channel\0version -> framed channel value
  KEYS[3] byNamespace   ZSET or LIST  ns\0id (include checkpointIndex)
  KEYS[4] byId          ZSET  (earlier releases; deleted with the rest when the thread is left empty)
  KEYS[5] writes        HASH  pending writes: a checkpoint's bundle ns\0id and overflow fields (include pendingWrites)
  KEYS[6] writesIndex   ZSET  the overflow fields
  KEYS[7] runFences     HASH  a new history epoch when checkpoints were removed and others stay (include
                        historyEpoch); deleted with the rest when the thread is left empty
  KEYS[8] byRun         ZSET  runId\0ns\0\0firstId\0count per (run, namespace), runId\0ns\0id (earlier releases)

  ARGV[1] fenceField    the caller's run fence field when the caller is a leased run removing what it wrote itself
                        (rollback), else ""
  ARGV[2] fenceToken    that run's lease token, else 0
  ARGV[3] checkLimit    a namespace left with more checkpoints than this does not have its blobs checked here: that
                        would read every remaining record in one script (about a second at 100,000). Its candidates
                        (the blobs the removed checkpoints pointed at, and the bases they lean on) go back to the
                        client, which checks them in pages (saverCheckBlobs), and the thread is marked "d<n>"
                        for that time (include blobSweep)
  ARGV[4..]             escaped run ids

  Result: { checkpoints removed, writes removed, blobs removed, deferred }, deferred listing the namespaces left to
  the pages as { ns, candidate blob field, ... } lists (empty when none); or { -1, runId, ... } when a live leased
  run other than the caller (include liveRuns) is writing the thread: nothing is removed (ThreadLeasedError for the
  caller).

  Errors: the refusal above; a key of another Redis type fails with WRONGTYPE, reported as CorruptCheckpointError.

  Audit (optional, see include auditOutbox): event deleteForRuns (fields checkpoints, writes, blobs: the counts
  removed), when something was removed (saverCheckBlobs records the blobs its pages remove).
]]
-- @include auditOutbox
-- @include liveRuns
-- @include checkpointRefs
-- @include checkpointIndex
-- @include dropUnneededBlobs
-- @include pendingWrites
-- @include runIndex
-- @include historyEpoch
-- @include blobSweep

local liveRuns = liveRunsOn(KEYS[7], ARGV[1], ARGV[2])
if #liveRuns > 0 then return { -1, unpack(liveRuns) } end
local function removed(checkpointCount, writeCount, blobCount, deferred)
  if checkpointCount + writeCount + blobCount > 0 then
    auditEvent("deleteForRuns", "checkpoints", checkpointCount, "writes", writeCount, "blobs", blobCount)
  end
  return { checkpointCount, writeCount, blobCount, deferred or {} }
end

local checkpoints, blobs, byNamespace, byId = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local writes, writesIndex, runFences, byRun = KEYS[5], KEYS[6], KEYS[7], KEYS[8]

local removedCheckpoints, removedWrites, removedBlobs = 0, 0, 0
-- Blob fields the removed checkpoints pointed at, per namespace: candidates for removal.
local candidates, touched = {}, {}
-- Index entries to remove, all at once at the end (a run may have thousands: include checkpointIndex).
local unindexed = {}

-- Removes one checkpoint with its index entry and pending writes; its blobs become candidates. The run line of a
-- record removed through an earlier release's member (a checkpoint put again since, with a run id) is counted down.
local function removeCheckpoint(ns, field, record, countDown)
  if record then
    if not candidates[ns] then
      candidates[ns] = {}
      touched[#touched + 1] = ns
    end
    for _, blobField in ipairs(checkpointBlobFields(ns, refsOf(record))) do
      candidates[ns][blobField] = true
    end
    removedCheckpoints = removedCheckpoints + redis.call("HDEL", checkpoints, field)
    local runOfRecord = countDown and runIndexRunOf(record)
    if runOfRecord then
      runIndexDrop(byRun, runOfRecord, ns)
    end
  end
  unindexed[#unindexed + 1] = field
  removedWrites = removedWrites + pendingWritesRemove(field, record)
end

-- The run's checkpoints of namespace ns: from firstId on, until count of them were found or the namespace ends.
local function removeRunFromNamespace(runId, ns, firstId, count)
  local from, to = "[" .. ns .. "\0" .. firstId, "(" .. ns .. "\1"
  local found = 0
  while found < count do
    local page = checkpointIndexRange(byNamespace, from, to, false, 0, math.max(count - found, 16))
    if #page == 0 then
      return
    end
    for _, field in ipairs(page) do
      local record = redis.call("HGET", checkpoints, field)
      if record and runIndexRunOf(record) == runId then
        removeCheckpoint(ns, field, record, false)
        found = found + 1
        if found == count then
          return
        end
      end
    end
    from = "(" .. page[#page]
  end
end

local checkLimit = tonumber(ARGV[3])
for i = 4, #ARGV do
  local runId = ARGV[i]
  local members = redis.call("ZRANGE", byRun, "[" .. runId .. "\0", "(" .. runId .. "\1", "BYLEX")
  for _, member in ipairs(members) do
    local ns, id, count = runIndexParse(member, #runId)
    -- This release's member of a (run, ns) sorts before the earlier release's ones (its id part is empty).
    redis.call("ZREM", byRun, member)
    if count then
      removeRunFromNamespace(runId, ns, id, count)
    else
      local field = ns .. "\0" .. id
      removeCheckpoint(ns, field, redis.call("HGET", checkpoints, field), true)
    end
  end
end

checkpointIndexRemoveMany(byNamespace, unindexed)
if checkpointIndexCard(byNamespace) == 0 then
  removedBlobs = redis.call("HLEN", blobs)
  removedWrites = removedWrites + pendingWritesCountAll()
  redis.call("UNLINK", checkpoints, blobs, byNamespace, byId, writes, writesIndex, runFences, byRun)
  return removed(removedCheckpoints, removedWrites, removedBlobs)
end

-- Long namespaces: their candidates, with the bases they lean on, go to the client's pages.
local deferred = {}
for _, ns in ipairs(touched) do
  if candidates[ns] and next(candidates[ns]) ~= nil
    and checkpointIndexLexCount(byNamespace, "[" .. ns .. "\0", "(" .. ns .. "\1") > checkLimit
  then
    local entry = { ns }
    for _, blobField in ipairs(blobCandidatesWithBases(blobs, candidates[ns])) do
      entry[#entry + 1] = blobField
    end
    deferred[#deferred + 1] = entry
    candidates[ns] = nil
  end
end
if #deferred > 0 then
  blobSweepMarkCheck(runFences, checkpoints)
end
removedBlobs = dropUnneededBlobs(checkpoints, blobs, byNamespace, candidates, touched)
if removedCheckpoints > 0 then
  -- Checkpoints that stay may have lost ancestors: histories held by clients must be read again.
  historyEpochChange(runFences, checkpoints)
end
return removed(removedCheckpoints, removedWrites, removedBlobs, deferred)

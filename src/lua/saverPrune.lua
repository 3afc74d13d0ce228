--[[
  saverPrune: one bounded step of prune() (and of sweepExpired() for the keepLatest TTL) on one thread: trims one
  namespace to its newest keepLast checkpoints and what they need (include retention), or, with keepLast 0, deletes
  the whole thread. The call for the last namespace also removes the writes of steps never put (include retention,
  retentionDropStranded), counted in writes. A pinned thread is left as it is. The client calls again with the same
  namespace while `more` is 1, then with the next namespace, until there is none: each call is atomic and its work
  bounded.

  KEYS[1] checkpoints   HASH  ns\0id -> framed checkpoint record
  KEYS[2] blobs         HASH  ns\0channel\0version -> framed channel value
  KEYS[3] byNamespace   ZSET or LIST  ns\0id (include checkpointIndex)
  KEYS[4] byId          ZSET  (earlier releases; include legacyLayout)
  KEYS[5] writes        HASH  pending writes: a checkpoint's bundle ns\0id and overflow fields (include pendingWrites)
  KEYS[6] writesIndex   ZSET  the overflow fields
  KEYS[7] runFences     HASH  run fence fields, and "pinned" for a pinned thread
  KEYS[8] byRun         ZSET  the run index (include runIndex)

  ARGV[1] keepLast      checkpoints kept per namespace (integer >= 1); 0 deletes every key of the thread
  ARGV[2] ns            the namespace (escaped) this step trims; the root namespace is ""
  ARGV[3] maxDeletes    most checkpoints this call removes
  ARGV[4] maxVisits     most records and index entries this call reads
  ARGV[5] checkLimit    with more checkpoints than this left in the namespace after the step, the blobs the removed
                        checkpoints leave unneeded are not looked for (that reads every remaining record): the
                        thread is marked for saverSweepBlobs instead (include blobSweep)

  Result: { pinned, checkpoints, writes, blobs, more, nextNs, runIds, sweep }: pinned 1 when the thread is pinned
  (nothing done), 2 when keepLast is 0 and a live leased run is writing the thread (include liveRuns; nothing done: a
  run's history and fences are not deleted under it; trimming with keepLast >= 1 goes ahead, as the retention option
  does); the counts removed; more 1 when this namespace has more to remove (the budget ran out; a call that removes
  nothing and still says more cannot get further); nextNs the next namespace, false when there is none; runIds the
  escaped ids of the runs whose last checkpoint on the thread went (include retention; the client drops the thread
  from their run records); sweep 1 when the thread is marked for saverSweepBlobs (by this step or an earlier prune's).
  With keepLast 0: { pinned, checkpoints, writes, blobs, 0, false, runIds, 0 }, runIds every run the thread's run
  index named.

  Errors: none (a key of another Redis type fails with WRONGTYPE, reported as CorruptCheckpointError).

  Audit (optional, see include auditOutbox): event prune (fields keepLast, checkpoints, writes, blobs: the counts
  removed), when the call removed something.
]]
-- @include auditOutbox
-- @include liveRuns
-- @include retention
-- @include legacyLayout

if tonumber(ARGV[1]) == 0 and redis.call("HEXISTS", KEYS[7], "pinned") == 0 and #liveRunsOn(KEYS[7], "", 0) > 0 then
  return { 2, 0, 0, 0, 0, false, {}, 0 }
end
local function pruned(checkpointCount, writeCount, blobCount)
  if checkpointCount + writeCount + blobCount > 0 then
    auditEvent("prune", "keepLast", ARGV[1], "checkpoints", checkpointCount, "writes", writeCount, "blobs", blobCount)
  end
end

local keepLast, ns = tonumber(ARGV[1]), ARGV[2]
local maxDeletes, maxVisits, checkLimit = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])

if retentionPinned() then
  return { 1, 0, 0, 0, 0, false, {}, 0 }
end

if keepLast == 0 then
  -- Fields that hold writes ahead of their checkpoint's put (include recordWrites) are no checkpoints.
  local writes, ahead = pendingWritesCountAll()
  local checkpoints = redis.call("HLEN", KEYS[1]) - ahead
  local blobs = redis.call("HLEN", KEYS[2])
  local runs = runIndexRuns(KEYS[8])
  redis.call("UNLINK", KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8])
  pruned(checkpoints, writes, blobs)
  return { 0, checkpoints, writes, blobs, 0, false, runs, 0 }
end

-- What earlier releases stored would only go stale here.
upgradeLegacyLayout(KEYS[4])
local state = retentionBudget(maxDeletes, maxVisits)
local more = retentionTrimNamespace(state, ns, keepLast, retentionRootCutoff(keepLast), false)
local nextNs = retentionNextNamespace(ns) or false
if not nextNs then
  -- The last namespace: the thread is trimmed, and what is left to read for stranded writes is small.
  retentionDropStranded(state, retentionOldestKeptRoot(keepLast))
end
-- A long namespace trimmed from its oldest end: finding the blobs this step left unneeded would read every record
-- that remains, at every step; the sweep reads them once the namespace is short (include blobSweep).
state.deferBlobs = state.checkpoints > 0
  and checkpointIndexLexCount(KEYS[3], "[" .. ns .. "\0", "(" .. ns .. "\1") > checkLimit
local removed = retentionFinish(state)
pruned(removed[1], removed[2], removed[3])
local sweep = blobSweepState(KEYS[7]) and 1 or 0
return { 0, removed[1], removed[2], removed[3], more and 1 or 0, nextNs, removed[4], sweep }

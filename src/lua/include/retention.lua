-- Retention: trims a thread's checkpoint history to the newest `keepLast` checkpoints of a namespace, never removing
-- what a kept checkpoint needs to be read. Used by saverPut (the `retention` option, a few checkpoints at a time)
-- and saverPrune (prune(), sweepExpired()). Expects the thread's eight keys in KEYS[1..8] (the saver's order).
--
-- What is kept, per namespace ns (fields "ns\0id", ordered by id like list()):
-- - the newest keepLast checkpoints ("kept");
-- - for each kept checkpoint, every ancestor a DeltaChannel value of it is rebuilt from: a channel whose value the
--   checkpoint leaves to its ancestors' writes is named in its refs (refsInHistory of include checkpointRefs) or,
--   as earlier releases and `compression: false` store it, has the marker blob (IN_HISTORY_MARKER; see
--   FrameFormat.IN_HISTORY in src/saver/codec.ts) at its version; the parent chain is kept up to the nearest
--   ancestor that stores a value for each such channel (what saverDeltaHistory walks), with their pending writes;
-- - pending writes go with their checkpoint (bundle and overflow, include pendingWrites); blobs a remaining
--   checkpoint points at, and the delta bases those lean on, stay (include dropUnneededBlobs); blobs nothing needs
--   any more are deleted.
-- A subgraph namespace (ns ~= "") whose newest checkpoint is older than the oldest kept checkpoint of the root
-- namespace belongs to a step the root no longer keeps: it is removed whole ("dead"), so old subgraph runs do not
-- pile up. A pinned thread (field "pinned" in the runFences hash, KEYS[7]) is never trimmed.
--
-- retentionBudget(maxDeletes, maxVisits): the work one call may do: checkpoints removed, records and index entries
-- read. When the walk of a kept checkpoint's ancestors runs out of visits, nothing of that namespace is removed.
-- retentionTrimNamespace(state, ns, keepLast, cutoff, deadOnly): one namespace; returns true when it has more to
--   remove than the budget allowed. cutoff: the oldest kept root id (nil: the root keeps everything).
-- retentionRootCutoff(keepLast): that id, or nil.
-- retentionOldestKeptRoot(keepLast): the oldest of the newest keepLast root checkpoints, also when the root holds
--   exactly keepLast (after a trim); nil when it holds fewer.
-- retentionNextNamespace(ns): the escaped namespace after ns in byNamespace order, or nil.
-- retentionFinish(state): deletes the blobs the removed checkpoints left unneeded (or, with state.deferBlobs set,
--   marks the thread for prune's blob sweep instead, include blobSweep) and cleans a window of the run
--   index (an earlier release's members; a removed checkpoint's run line counts its (run, namespace) member down
--   as it goes); returns { checkpoints, writes, blobs, forgotten } removed, forgotten the escaped ids of the runs
--   whose last checkpoint on the thread went (the caller drops the thread from their run records, which live in
--   the runs' slots).
-- retentionDropStranded(state, cutoff): removes the writes of steps whose checkpoint was never put (below); call it
--   before retentionFinish, which counts them with the writes removed.
-- retentionAfterPut(ns, spec): saverPut's hook; spec "keepLast slack". Trims when the namespace's count exceeds
--   keepLast and (count - keepLast) is a multiple of slack, so trimming costs little per put on average; returns
--   the forgotten runs of retentionFinish (nil when it did not trim). With audit
--   on (include auditOutbox, before this one) a trim that removed something records the event prune (fields by
--   "retention", keepLast, checkpoints, writes, blobs) beside the put's own event.
-- @include auditOutbox
-- @include checkpointRefs
-- @include checkpointIndex
-- @include lexOrder
-- @include dropUnneededBlobs
-- @include serverTimeMs
-- @include pendingWrites
-- @include runIndex
-- @include blobSweep

local RETENTION_PINNED_FIELD = "pinned"

local function retentionBudget(maxDeletes, maxVisits)
  return {
    deletes = maxDeletes, visits = maxVisits, exhausted = false, candidates = {}, touched = {},
    checkpoints = 0, writes = 0, forgotten = {},
  }
end

local function retentionSpend(state, visits)
  state.visits = state.visits - visits
  if state.visits < 0 then
    state.exhausted = true
  end
  return not state.exhausted
end

local function retentionIdOf(field)
  local cut = string.find(field, "\0", 1, true)
  return string.sub(field, cut + 1)
end

local function retentionNewest(ns, count)
  return checkpointIndexRange(KEYS[3], "[" .. ns .. "\0", "(" .. ns .. "\1", true, 0, count)
end

-- The keepLast-th newest root checkpoint's id (one index member read), or nil when the root holds fewer.
local function retentionOldestKeptRoot(keepLast)
  local member = checkpointIndexRange(KEYS[3], "[\0", "(\1", true, keepLast - 1, 1)[1]
  return member and retentionIdOf(member)
end

local function retentionRootCutoff(keepLast)
  if checkpointIndexLexCount(KEYS[3], "[\0", "(\1") <= keepLast then
    return nil
  end
  return retentionOldestKeptRoot(keepLast)
end

local function retentionNextNamespace(ns)
  local member = checkpointIndexRange(KEYS[3], "(" .. ns .. "\1", "+", false, 0, 1)[1]
  if not member then
    return nil
  end
  return string.sub(member, 1, string.find(member, "\0", 1, true) - 1)
end

-- What the blobs of one record hold for its channels (escaped names; only those in `only` unless nil): "pending"
-- for the in-history marker, "seed" for a stored value; a cleared or missing blob is left out.
local function retentionChannelKinds(ns, lines, only)
  local channels, fields = {}, {}
  for i = 1, #lines do
    local channel = string.sub(lines[i], 1, (string.find(lines[i], "\0", 1, true) or (#lines[i] + 1)) - 1)
    if only == nil or only[channel] then
      channels[#channels + 1] = channel
      fields[#fields + 1] = ns .. "\0" .. lines[i]
    end
  end
  local out = {}
  for from = 1, #fields, 1000 do
    local values = redis.call("HMGET", KEYS[2], unpack(fields, from, math.min(from + 999, #fields)))
    for i = 1, #values do
      local value = values[i]
      if value == IN_HISTORY_MARKER then
        out[channels[from + i - 1]] = "pending"
      elseif value and #value > 1 then
        out[channels[from + i - 1]] = "seed"
      end
    end
  end
  return out
end

-- Marks in `protect` the ancestors the kept checkpoint `field` needs for its DeltaChannel values. `covered[field]`
-- remembers the channels already walked past a checkpoint, so overlapping chains are walked once.
local function retentionProtectChain(state, ns, field, record, protect, covered)
  local refsText = refsOf(record)
  local parentId, lines = parseRefs(refsText)
  local open, openCount = {}, 0
  for channel, kind in pairs(retentionChannelKinds(ns, lines, nil)) do
    if kind == "pending" then
      open[channel] = true
      openCount = openCount + 1
    end
  end
  for channel in pairs(refsInHistory(refsText) or {}) do
    if not open[channel] then
      open[channel] = true
      openCount = openCount + 1
    end
  end
  while openCount > 0 and parentId ~= "" do
    if not retentionSpend(state, 1) then
      return false
    end
    local ancestor = ns .. "\0" .. parentId
    local ancestorRecord = redis.call("HGET", KEYS[1], ancestor)
    if not ancestorRecord then
      return true
    end
    protect[ancestor] = true
    local nextParent, ancestorLines = parseRefs(refsOf(ancestorRecord))
    local kinds = retentionChannelKinds(ns, ancestorLines, open)
    covered[ancestor] = covered[ancestor] or {}
    local remaining, remainingCount = {}, 0
    for channel in pairs(open) do
      if kinds[channel] ~= "seed" and not covered[ancestor][channel] then
        covered[ancestor][channel] = true
        remaining[channel] = true
        remainingCount = remainingCount + 1
      end
    end
    open, openCount, parentId = remaining, remainingCount, nextParent
  end
  return true
end

-- Removes one checkpoint with its index entries and pending writes; its blobs become candidates.
local function retentionRemove(state, ns, field)
  local record = redis.call("HGET", KEYS[1], field)
  if record then
    if not state.candidates[ns] then
      state.candidates[ns] = {}
      state.touched[#state.touched + 1] = ns
    end
    for _, blobField in ipairs(checkpointBlobFields(ns, refsOf(record))) do
      state.candidates[ns][blobField] = true
    end
    state.checkpoints = state.checkpoints + redis.call("HDEL", KEYS[1], field)
    local runId = runIndexRunOf(record)
    if runId and runIndexDrop(KEYS[8], runId, ns) and not runIndexHasRun(KEYS[8], runId) then
      state.forgotten[#state.forgotten + 1] = runId
    end
  end
  checkpointIndexRemove(KEYS[3], field, true)
  state.writes = state.writes + pendingWritesRemove(field, record)
  state.deletes = state.deletes - 1
end

local function retentionTrimNamespace(state, ns, keepLast, cutoff, deadOnly)
  local count = checkpointIndexLexCount(KEYS[3], "[" .. ns .. "\0", "(" .. ns .. "\1")
  if count == 0 then
    return false
  end
  local newest = retentionNewest(ns, keepLast)
  local dead = ns ~= "" and cutoff ~= nil and lexBefore(retentionIdOf(newest[1]), cutoff)
  if not dead and (deadOnly or count <= keepLast) then
    return false
  end
  local protect, covered = {}, {}
  if not dead then
    if not retentionSpend(state, #newest) then
      return true
    end
    for _, field in ipairs(newest) do
      protect[field] = true
    end
    for _, field in ipairs(newest) do
      local record = redis.call("HGET", KEYS[1], field)
      if record and not retentionProtectChain(state, ns, field, record, protect, covered) then
        return true
      end
    end
  end
  -- The oldest first; the newest keepLast are never candidates.
  local older = dead and count or (count - keepLast)
  local from = 0
  while from < older do
    local page = math.min(200, older - from)
    if not retentionSpend(state, page) then
      return true
    end
    local members = checkpointIndexRange(KEYS[3], "[" .. ns .. "\0", "(" .. ns .. "\1", false, from, page)
    local skipped = 0
    for _, field in ipairs(members) do
      if protect[field] then
        skipped = skipped + 1
      elseif state.deletes <= 0 then
        return true
      else
        retentionRemove(state, ns, field)
      end
    end
    if #members == 0 then
      break
    end
    -- Removed members shift the range: the next page starts after the ones kept.
    from = from + skipped
    older = older - (#members - skipped)
  end
  return false
end

-- Stranded writes: LangGraph sends a step's writes and the put of the checkpoint they belong to side by side, so a
-- process that dies between them leaves writes under an id that has no checkpoint and never will (the resumed run
-- puts the step again under a new id): writes ahead in the checkpoints hash (include recordWrites), or a bundle or
-- overflow writes in the writes hash. No index entry names them, so the trimming above never reaches them, and no
-- reader returns them. Those of an id before `cutoff`, the oldest kept root checkpoint, go: a put still on its way
-- for such an id would be of a checkpoint retention trims (a namespace's puts arrive in order, and a subgraph's before
-- the root step that called it ends), and writes whose checkpoint is there stay whatever their id.
-- Reads the names of both hashes only when one holds something the index does not name, or the writes hash exists
-- (big writes and `compression: false` keep it); then every field, within the visit budget (else nothing is done).
local function retentionStrandedBase(field)
  local first = string.find(field, "\0", 1, true)
  if not first then
    return nil
  end
  local second = string.find(field, "\0", first + 1, true)
  local base = second and string.sub(field, 1, second - 1) or field
  return base, string.sub(base, first + 1)
end

local function retentionDropStranded(state, cutoff)
  if cutoff == nil or state.exhausted then
    return
  end
  local records, indexed = redis.call("HLEN", KEYS[1]), checkpointIndexCard(KEYS[3])
  local writeCount = pendingWritesInHash() and redis.call("HLEN", KEYS[5]) or 0
  local readRecords = records > indexed
  if (not readRecords and writeCount == 0)
    or not retentionSpend(state, (readRecords and records or 0) + writeCount + indexed) then
    return
  end
  local fields = readRecords and redis.call("HKEYS", KEYS[1]) or {}
  local writeFields = writeCount > 0 and redis.call("HKEYS", KEYS[5]) or {}
  local checkpoints = {}
  for _, member in ipairs(checkpointIndexRange(KEYS[3], "-", "+", false)) do
    checkpoints[member] = true
  end
  local bases, seen = {}, {}
  for _, list in ipairs({ fields, writeFields }) do
    for _, field in ipairs(list) do
      local base, id = retentionStrandedBase(field)
      if base and not seen[base] and not checkpoints[base] and lexBefore(id, cutoff) then
        seen[base] = true
        bases[#bases + 1] = base
      end
    end
  end
  for _, base in ipairs(bases) do
    local record = redis.call("HGET", KEYS[1], base)
    -- A record that is no writes ahead is a checkpoint the index lost: left for the reader to see.
    if not record or recordWritesAhead(record) then
      if record then
        redis.call("HDEL", KEYS[1], base)
      end
      state.writes = state.writes + pendingWritesRemove(base, record)
    end
  end
end

-- Stale run index entries of earlier releases (their checkpoint was removed) in a window of the byRun index; a
-- (run, namespace) member (include runIndex) is counted down as its checkpoints go, and left alone here.
local function retentionCleanRunIndex()
  local total = redis.call("ZCARD", KEYS[8])
  if total == 0 or total <= checkpointIndexCard(KEYS[3]) then
    return
  end
  local window = 500
  local start = 0
  if total > window then
    start = serverTimeMs() % (total - window + 1)
  end
  local members = redis.call("ZRANGE", KEYS[8], start, start + window - 1)
  local stale = {}
  for _, member in ipairs(members) do
    local cut = string.find(member, "\0", 1, true)
    local field = cut and string.sub(member, cut + 1)
    if field and not string.find(field, "\0\0", 1, true) and redis.call("HEXISTS", KEYS[1], field) == 0 then
      stale[#stale + 1] = member
    end
  end
  for from = 1, #stale, 1000 do
    redis.call("ZREM", KEYS[8], unpack(stale, from, math.min(from + 999, #stale)))
  end
end

local function retentionFinish(state)
  local blobsRemoved = 0
  if state.checkpoints > 0 then
    if state.deferBlobs then
      blobSweepMark(KEYS[7], KEYS[1])
    else
      blobsRemoved = dropUnneededBlobs(KEYS[1], KEYS[2], KEYS[3], state.candidates, state.touched)
    end
    retentionCleanRunIndex()
  end
  return { state.checkpoints, state.writes, blobsRemoved, state.forgotten }
end

local function retentionPinned()
  return redis.call("HEXISTS", KEYS[7], RETENTION_PINNED_FIELD) == 1
end

local function retentionAfterPut(ns, spec)
  local cut = string.find(spec, " ", 1, true)
  local keepLast, slack = tonumber(string.sub(spec, 1, cut - 1)), tonumber(string.sub(spec, cut + 1))
  local count = checkpointIndexLexCount(KEYS[3], "[" .. ns .. "\0", "(" .. ns .. "\1")
  if count <= keepLast or (count - keepLast) % slack ~= 0 or retentionPinned() then
    return nil
  end
  local state = retentionBudget(4 * slack + 64, 4000)
  local cutoff = retentionRootCutoff(keepLast)
  retentionTrimNamespace(state, ns, keepLast, cutoff, false)
  if ns == "" and cutoff ~= nil then
    -- Subgraph namespaces of steps the root no longer keeps.
    local other = retentionNextNamespace("")
    while other and state.deletes > 0 and retentionSpend(state, 2) do
      retentionTrimNamespace(state, other, keepLast, cutoff, true)
      other = retentionNextNamespace(other)
    end
  end
  retentionDropStranded(state, cutoff)
  local removed = retentionFinish(state)
  if removed[1] + removed[2] + removed[3] > 0 then
    auditEvent("prune", "by", "retention", "keepLast", keepLast,
      "checkpoints", removed[1], "writes", removed[2], "blobs", removed[3])
  end
  return removed[4]
end

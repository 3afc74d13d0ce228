--[[
  saverRead: reads up to `limit` checkpoints of one thread, newest first, each with its record, the channel
  blobs its versions point at and its pending writes: getTuple and one page of list() in one round trip.
  Optionally refreshes the TTL of every key of the thread (refreshOnRead).

  KEYS[1] checkpoints   HASH  ns\0id -> framed checkpoint record: a format byte, then 4-byte big-endian length and
                        bytes per part; the first part is "parentId\nchannel\0version\n..." (the refs)
  KEYS[2] blobs         HASH  ns\0channel\0version -> framed channel value
  KEYS[3] byNamespace   ZSET or LIST  ns\0id (include checkpointIndex)
  KEYS[4] byId          ZSET  (earlier releases; TTL refresh only)
  KEYS[5] writes        HASH  pending writes: a checkpoint's bundle ns\0id and overflow fields (include pendingWrites)
  KEYS[6] writesIndex   ZSET  the overflow fields
  KEYS[7] runFences     HASH  its history epoch (withEpoch); TTL refresh
  KEYS[8] byRun         ZSET  (TTL refresh only)

  ARGV[1] index         "ns": a range of byNamespace members (one namespace); "id": a range over every namespace,
                        in the byte order of `id\0ns` (newest id first; one id in several namespaces by namespace)
  ARGV[2] max           lex bound, newest end of the range ("[x", "(x" or "+"), over `ns\0id` or `id\0ns`
  ARGV[3] min           lex bound, oldest end of the range ("[x" or "-"; "(x" too with "ns")
  ARGV[4] limit         most checkpoints to return (integer >= 1)
  ARGV[5] ttlMs         refresh every key's TTL to this many milliseconds; "0" leaves TTLs alone
  ARGV[6] withEpoch     "1": the result also carries the thread's history epoch (include historyEpoch), read with
                        the page, for a client that holds DeltaChannel histories of the thread; "2": that, and when
                        the read returns one checkpoint whose refs leave channels to history (`\1` lines: a
                        DeltaChannel's), the first page of those channels' history walk (include deltaHistoryWalk)
                        from its parent: what getDeltaChannelHistory reads next (LangGraph loads it right after
                        getTuple), sent with the checkpoint; "" (or absent): neither
  ARGV[7] maxVisits     with "2": the history page's most ancestors (saverDeltaHistory's ARGV[4])
  ARGV[8] maxBytes      with "2": the history page's bytes (saverDeltaHistory's ARGV[5])
  ARGV[9] stopAt        with "2": the checkpoint whose history the client holds, or "" (saverDeltaHistory's ARGV[7]);
                        no page when it is the checkpoint read itself (what is held answers)
  ARGV[10] heldEpoch    with "2": the epoch the client read it under (saverDeltaHistory's ARGV[8])
  ARGV[11..]            optional pairs of (blob field, stored length in bytes): blobs the client already holds (the
                        values this process last wrote). A returned checkpoint that points at one of them, stored
                        with that length, gets "" for it in blobValues and none of its bases: the bytes stay here

  Result: { hasCheckpoints, entries, bases, epoch, history } (epoch only with withEpoch; history only with "2"
  and a checkpoint that has one: { channels, cursor, entries, pieces, seeds, bases, stopped, visited }, channels
  the names walked and the rest as saverDeltaHistory returns them) where hasCheckpoints is 1 when the
  thread holds a checkpoint (in any namespace; a range that found one needs no count of the index) and 0 when it
  holds none, and each entry is { field, record, blobValues, overflowWrites, bundle }: blobValues in the order of the
  refs lines (nil where missing, "" where the client holds it (ARGV[11..]); none when the record's framing is
  unreadable, which the client reports);
  overflowWrites the checkpoint's pending writes stored in their own fields, in field order; bundle the field holding
  its other writes, as stored (nil when absent; the client splits it). bases is a flat list of blob field, blob value:
  every base the returned delta blobs need (include/checkpointRefs.lua), each once. epoch is the history epoch as
  of this read: a history the client read under that epoch is still the history of the checkpoints returned here
  (src/saver/delta-history-cache.ts), so loading it needs no check of its own.

  Errors: none (a key of another Redis type fails with WRONGTYPE, reported as CorruptCheckpointError).
]]
-- @include checkpointRefs
-- @include checkpointIndex
-- @include lexOrder
-- @include pendingWrites
-- @include historyEpoch
-- @include deltaHistoryWalk

local checkpoints, blobs = KEYS[1], KEYS[2]
local byNamespace = KEYS[3]
local index, max, min = ARGV[1], ARGV[2], ARGV[3]
local limit, ttlMs = tonumber(ARGV[4]), tonumber(ARGV[5])
local withHistory = ARGV[6] == "2"
local withEpoch = ARGV[6] == "1" or withHistory
local held = {}
for i = 11, #ARGV - 1, 2 do
  held[ARGV[i]] = tonumber(ARGV[i + 1])
end

-- HMGET in chunks: unpack() of thousands of fields would overflow the Lua stack.
local function hmget(key, fields)
  local values = {}
  for from = 1, #fields, 1000 do
    local chunk = redis.call("HMGET", key, unpack(fields, from, math.min(from + 999, #fields)))
    for i = 1, #chunk do
      values[#values + 1] = chunk[i]
    end
  end
  return values
end

local function withinMax(key, bound)
  local kind, x = string.sub(bound, 1, 1), string.sub(bound, 2)
  return kind == "+" or lexBefore(key, x) or (kind == "[" and key == x)
end

local function withinMin(key, bound)
  local kind, y = string.sub(bound, 1, 1), string.sub(bound, 2)
  return kind == "-" or lexBefore(y, key) or (kind == "[" and key == y)
end

-- The id part of an `id\0ns` bound: a key `id\0ns` below (above) the bound has an id at most (at least) this.
local function idOfBound(bound)
  local x = string.sub(bound, 2)
  local cut = string.find(x, "\0", 1, true)
  return cut and string.sub(x, 1, cut - 1) or x
end

-- Fields `ns\0id` of every namespace between max and min (bounds on `id\0ns`), newest first, at most limit: one
-- byNamespace range per namespace (found by jumping from one namespace to the next), merged here. Per namespace at
-- most one member at each end can share the bound's id and still fall outside it, hence limit + 2.
local function acrossNamespaces()
  local found = {}
  local from = "-"
  while true do
    local first = checkpointIndexRange(byNamespace, from, "+", false, 0, 1)[1]
    if not first then
      break
    end
    local ns = string.sub(first, 1, string.find(first, "\0", 1, true) - 1)
    from = "[" .. ns .. "\1"
    local high = max == "+" and ("(" .. ns .. "\1") or ("[" .. ns .. "\0" .. idOfBound(max))
    local low = "[" .. ns .. "\0" .. (min == "-" and "" or idOfBound(min))
    for _, field in ipairs(checkpointIndexRange(byNamespace, low, high, true, 0, limit + 2)) do
      local key = string.sub(field, #ns + 2) .. "\0" .. ns
      if withinMax(key, max) and withinMin(key, min) then
        found[#found + 1] = { key, field }
      end
    end
  end
  table.sort(found, function(a, b) return lexBefore(b[1], a[1]) end)
  local fields = {}
  for i = 1, math.min(limit, #found) do
    fields[i] = found[i][2]
  end
  return fields
end

local members
local byField = index == "ns" and min == max and string.sub(min, 1, 1) == "["
if byField then
  -- One checkpoint by its field (getTuple with an id): its record below says whether it exists (the index holds
  -- exactly the fields of the records put; a field holding writes ahead of its checkpoint's put is no checkpoint),
  -- so the index is not searched.
  members = { string.sub(min, 2) }
elseif index == "ns" then
  members = checkpointIndexRange(byNamespace, min, max, true, 0, limit)
else
  members = acrossNamespaces()
end

local entries = {}
local bases, seenBases = {}, {}
-- The last checkpoint returned: its namespace, escaped id, record and refs text (for the history of a single one).
local lastNs, lastId, lastRecord, lastRefs
for _, field in ipairs(members) do
  local cut = string.find(field, "\0", 1, true)
  local ns = string.sub(field, 1, cut - 1)
  local record = redis.call("HGET", checkpoints, field)
  if record and not recordWritesAhead(record) then
    local refs = refsOf(record)
    lastNs, lastId, lastRecord, lastRefs = ns, string.sub(field, cut + 1), record, refs
    local blobFields = checkpointBlobFields(ns, refs)
    local blobValues
    if next(held) == nil then
      blobValues = hmget(blobs, blobFields)
    else
      -- Fields the client holds are checked by length (HSTRLEN) and not sent; the rest are read as usual.
      local wanted, at = {}, {}
      blobValues = {}
      for i = 1, #blobFields do
        local length = held[blobFields[i]]
        if length ~= nil and redis.call("HSTRLEN", blobs, blobFields[i]) == length then
          blobValues[i] = ""
        else
          wanted[#wanted + 1] = blobFields[i]
          at[#wanted] = i
        end
      end
      local values = hmget(blobs, wanted)
      for j = 1, #wanted do
        blobValues[at[j]] = values[j]
      end
    end
    for i = 1, #blobFields do
      local value = blobValues[i]
      if isDeltaBlob(value) then
        blobChain(blobs, blobFields[i], value, seenBases, bases)
      end
    end
    -- A record that carries its checkpoint's bundle is sent unwrapped, the bundle beside it (include pendingWrites).
    local unwrapped, bundle = pendingWritesRecordBundle(field, record)
    entries[#entries + 1] =
      { field, unwrapped, blobValues, pendingWritesOverflow(field), bundle, unwrapped ~= record and 1 or 0 }
  end
end

if ttlMs > 0 and #entries > 0 then
  for i = 1, #KEYS do
    redis.call("PEXPIRE", KEYS[i], ttlMs)
  end
end
-- Whether the thread holds a checkpoint: a range of the index that found one says so, else the index's size.
local hasCheckpoints = (#members > 0 and not byField) and 1 or math.min(checkpointIndexCard(byNamespace), 1)
-- The channels the checkpoint leaves to history, walked from its parent (its own writes are the next step's) down
-- to what the client holds, as saverDeltaHistory walks.
local function historyOfLast(epoch)
  -- What the client holds was read under another epoch: ancestors may have gone since, so the walk does not stop.
  local stopAt = ARGV[10] == epoch and ARGV[9] or ""
  if lastId == stopAt then
    return nil
  end
  local channels, names = {}, {}
  for escapedName in pairs(refsInHistory(lastRefs) or {}) do
    local name = deltaHistoryUnescape(escapedName)
    names[#names + 1] = name
    channels[#channels + 1] = name
    channels[#channels + 1] = escapedName
  end
  if #names == 0 then
    return nil
  end
  local cursor, historyEntries, pieces, seeds, historyBases, stopped, visited = deltaHistoryWalk(
    lastNs,
    refsParentAt(lastRecord, refsBounds(lastRecord)),
    tonumber(ARGV[7]),
    tonumber(ARGV[8]),
    stopAt,
    channels
  )
  return { names, cursor, historyEntries, pieces, seeds, historyBases, stopped, visited }
end

if withEpoch then
  local epoch = historyEpochOf(KEYS[7])
  if withHistory and #entries == 1 then
    return { hasCheckpoints, entries, bases, epoch, historyOfLast(epoch) }
  end
  return { hasCheckpoints, entries, bases, epoch }
end
return { hasCheckpoints, entries, bases }

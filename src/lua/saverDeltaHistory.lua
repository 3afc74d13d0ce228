--[[
  saverDeltaHistory: one page of the ancestor walk behind getDeltaChannelHistory. Follows the parent chain of one
  checkpoint inside the thread's slot and returns, per ancestor visited (newest first), its pending writes (the
  stored bundle whole, of which the client keeps the writes to the requested channels; overflow writes only to
  those) and, for each requested channel whose value that ancestor stored, the stored blob (the seed). A channel
  stops being walked at its seed; the walk stops when every channel has one, at the root, or when the page is full
  (then the client continues from the returned cursor with the channels still open).

  KEYS[1] checkpoints   HASH  ns\0id -> framed checkpoint record (its first part: the refs text)
  KEYS[2] blobs         HASH  ns\0channel\0version -> framed channel value (frame with no parts: no value)
  KEYS[3] byNamespace   ZSET or LIST  ns\0id (include checkpointIndex; finds the newest checkpoint when no id is
                        given)
  KEYS[4] byId          ZSET  (earlier releases; TTL refresh only)
  KEYS[5] writes        HASH  pending writes, framed (task, channel, type, bytes, path, idx): a checkpoint's bundle
                        ns\0id and its overflow fields (include pendingWrites)
  KEYS[6] writesIndex   ZSET  the overflow fields, so one checkpoint's overflow writes are one lex range
  KEYS[7] runFences     HASH  its history epoch (include historyEpoch); TTL refresh
  KEYS[8] byRun         ZSET  (TTL refresh only)

  ARGV[1] ns            the namespace (escaped as in the hash fields)
  ARGV[2] checkpointId  escaped id; "" (with ARGV[3] "target") means the newest checkpoint of the namespace
  ARGV[3] start         "target": ARGV[2] is the checkpoint whose history is wanted (its own writes are pending for
                        the next step and are skipped: the walk starts at its parent); "from": ARGV[2] is the next
                        ancestor to visit (a cursor returned by the previous page)
  ARGV[4] maxVisits     most ancestors this call visits (bounds the work of one call)
  ARGV[5] maxBytes      stop after the page's returned bytes pass this many (at least one ancestor is visited)
  ARGV[6] ttlMs         refresh every key's TTL to this many milliseconds; "0" leaves TTLs alone
  ARGV[7] stopAt        escaped id of a checkpoint whose history the client already holds or can cut from what it
                        holds (src/saver/delta-history-cache.ts), or "": the walk ends after visiting that ancestor,
                        and right away when it is the target (start "target") and its record exists
  ARGV[8] heldEpoch     the thread's history epoch when the client read what it holds: stopAt counts only while
                        the epoch is still that (include historyEpoch)
  ARGV[9..]             pairs (channel name, escaped channel name) of the channels still walked

  Result: { cursor, entries, pieces, seeds, bases, stopped, epoch, visited }; stopped is 1 when the walk ended at
  stopAt (the client appends the history it holds for stopAt to this one), else 0; epoch is the thread's history
  epoch. cursor is the escaped id of the next ancestor to visit, or "" when the walk is over. pieces are the stored
  writes of the ancestors visited that have any, newest first, as stored: an ancestor's bundle whole (include
  pendingWrites: each framed write after its length, one after another; a bundle holds about
  PENDING_WRITES_BUNDLE_BYTES, so it is sent as it is and the client keeps the writes to channels still walked at
  that ancestor), or its whole stored record when the record carries the bundle (include recordWrites: the client
  cuts the bundle out, so none is copied here), then its overflow writes to channels still walked (framed; each may
  be large, so these are chosen here). entries holds a 4-byte big-endian number per such ancestor, newest first: 4 *
  (its overflow writes sent) + 2 when its bundle is sent in its record + 1 when its bundle is sent, so the client
  knows which pieces are whose. seeds is a flat list {
  channel name, blob field, blob, entry, visit, ... } of the channels that end at an ancestor of this page (newest
  first), entry being the number of entries up to and including that ancestor's: the channel is walked through that
  entry's writes and no further; visit is that ancestor's place among the page's visited ones (1 for the first).
  bases is a flat list of blob field, blob value: every base the page's delta-encoded seeds need (include
  checkpointRefs, blobChain), each once. visited names every ancestor the page visited, newest first, with or
  without pieces: per ancestor a byte (1 when it has an entry, else 0), its escaped id and "\n" (escaped ids hold no
  newline). With it, a client that holds a checkpoint's history can cut from it the history of an ancestor on it
  whose channels all have their seed further down (the walk after that ancestor): what getStateHistory reads next,
  one ancestor after another.

  Reads: the parent chain one record at a time (each names the next), in runs of 1, 2, 4, ... up to READ_AHEAD
  records whose bundles then come in one HMGET, and the walked channels' blobs in HMGETs of BLOB_CHUNK in walk
  order until each channel has its seed; a run may read records and bundles past the last seed (fewer than the
  ancestors visited before it, and fewer than READ_AHEAD), and blobs past a seed only within its chunk. A record's
  parent and versions are read in place (include checkpointRefs, refsBounds), and a blob field is built only when a
  channel's version changes from one ancestor to the next, and never for a version the record names as left to
  history (a `\1` refs line: a DeltaChannel step's, no blob stored). A version the record names as JSON null (a
  `\3` refs line, no blob stored) is a seed too: its blob is sent as NULL_VALUE_BLOB, the blob such a value had
  before.

  Errors: none (a key of another Redis type fails with WRONGTYPE, reported as CorruptCheckpointError).
]]
-- @include checkpointRefs
-- @include checkpointIndex
-- @include pendingWrites
-- @include historyEpoch

local checkpoints, blobs, byNamespace = KEYS[1], KEYS[2], KEYS[3]
local ns, checkpointId, start = ARGV[1], ARGV[2], ARGV[3]
local maxVisits, maxBytes, ttlMs = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])

-- Records read before their bundles and blobs are fetched together: the first run reads one (a channel that is
-- not a DeltaChannel has its seed at the first ancestor, and only that value is read), each next run twice as many,
-- up to READ_AHEAD.
local READ_AHEAD = 32
local runLength = 1
-- Blobs read per HMGET while looking for the seeds.
local BLOB_CHUNK = 8

-- The distinct channels in argument order: names[j], escaped[j], fieldPrefix[j] ("ns\0channel\0", its blob fields'
-- start), open[j] while walked; walked: name -> true while walked (for overflow writes).
local names, escaped, fieldPrefix, open, walked, openCount = {}, {}, {}, {}, {}, 0
local epoch = historyEpochOf(KEYS[7])
-- What the client holds was read under another epoch: ancestors may have gone since, so the walk does not stop.
local stopAt = ARGV[8] == epoch and ARGV[7] or ""
for i = 9, #ARGV, 2 do
  if not walked[ARGV[i]] then
    openCount = openCount + 1
    names[openCount] = ARGV[i]
    escaped[openCount] = ARGV[i + 1]
    fieldPrefix[openCount] = ns .. "\0" .. ARGV[i + 1] .. "\0"
    open[openCount] = true
    walked[ARGV[i]] = true
  end
end
local channelCount = openCount

-- The channel of a framed write that stands alone (an overflow write): of a PACKED_WRITE frame (7), or the second
-- part of a frame of earlier releases (format byte, then 4-byte big-endian length and bytes per part; plain, 1, or
-- with its value compressed, 3: the channel part is the same in both). nil when the bytes are no such frame.
local function writeChannel(value)
  local format, size = string.byte(value, 1), #value
  if format == 7 then
    -- PACKED_WRITE (include pendingWrites): the task part, then idx and channel after their varint lengths.
    local repeats, at = pendingWritesTaskEnd(value, 1, size)
    if repeats ~= false then
      return nil
    end
    local length
    length, at = pendingWritesVarint(value, at + 1, size)
    if length then
      length, at = pendingWritesVarint(value, at + length, size)
    end
    if not length or at + length - 1 > size then
      return nil
    end
    return string.sub(value, at, at + length - 1)
  end
  if size < 9 or (format ~= 1 and format ~= 3) then
    return nil
  end
  local b1, b2, b3, b4 = string.byte(value, 2, 5)
  local offset = 6 + ((b1 * 256 + b2) * 256 + b3) * 256 + b4
  if offset + 3 > size then
    return nil
  end
  b1, b2, b3, b4 = string.byte(value, offset, offset + 3)
  return string.sub(value, offset + 4, offset + 3 + ((b1 * 256 + b2) * 256 + b3) * 256 + b4)
end

-- Whether a stored blob seeds its channel. A frame with no parts records a channel that had no value at that
-- version, the marker one whose value is left to history: neither is a seed. Nor is a missing blob. A version the
-- record's refs name as left to history (refsInHistoryAt of include checkpointRefs) has none and is not read at all.
local function isSeed(blob)
  return blob and #blob > 1 and blob ~= IN_HISTORY_MARKER
end

local function refreshTtl()
  if ttlMs > 0 then
    for i = 1, #KEYS do
      redis.call("PEXPIRE", KEYS[i], ttlMs)
    end
  end
end

local cursor = checkpointId
if start == "target" then
  local field
  if checkpointId == "" then
    field = checkpointIndexRange(byNamespace, "[" .. ns .. "\0", "(" .. ns .. "\1", true, 0, 1)[1]
  else
    field = ns .. "\0" .. checkpointId
  end
  local record = field and redis.call("HGET", checkpoints, field)
  if not record or recordWritesAhead(record) then
    return { "", "", {}, {}, {}, 0, epoch, "" }
  end
  refreshTtl()
  if checkpointId ~= "" and checkpointId == stopAt then
    return { "", "", {}, {}, {}, 1, epoch, "" }
  end
  cursor = refsParentAt(record, refsBounds(record))
end

-- entries: the 4-byte numbers of the ancestors with pieces (entryText: each number's string, made once).
local entries, entryText, pieces, seeds, bases, seenBases = {}, {}, {}, {}, {}, {}
-- visited: per ancestor visited, its entry flag byte, escaped id and "\n".
local visited = {}
local visits, bytes, stopped = 0, 0, 0
-- The version and blob field of each channel at the last ancestor read: a field is built when the version changes.
local lastVersion, lastField = {}, {}
local anyOverflow = pendingWritesAnyOverflow()

while cursor ~= "" and openCount > 0 and visits < maxVisits and (visits == 0 or bytes < maxBytes) do
  -- A run of the chain: ids[i] and fields[i] of each ancestor read, nextId the one after the run ("" at the root or
  -- at a missing record, which ends the chain as the root does); blobFields[(i - 1) * channelCount + j] the blob of
  -- channel j at ancestor i (false when the channel is closed or the ancestor lists no version); wanted: each
  -- distinct blob field once, in walk order (wantedChannel[k]: its channel).
  local ids, fields, records, carriedAt, blobFields, wanted, wantedSet, wantedChannel = {}, {}, {}, {}, {}, {}, {}, {}
  -- Blob fields of versions a record names as JSON null (a `\3` refs line, no blob stored): their seed is that null.
  local nullField = {}
  local count, nextId = 0, cursor
  local room = math.min(runLength, maxVisits - visits)
  runLength = math.min(runLength * 2, READ_AHEAD)
  while count < room and nextId ~= "" do
    local field = ns .. "\0" .. nextId
    local record = redis.call("HGET", checkpoints, field)
    local first, last, carried
    if record then
      first, last, carried = refsBounds(record)
    end
    -- Writes ahead of a checkpoint not put yet (include recordWrites) are no checkpoint: the chain ends there too.
    if not record or carried == 6 then
      nextId = ""
      break
    end
    count = count + 1
    ids[count] = nextId
    fields[count] = field
    records[count] = record
    carriedAt[count] = carried or false
    local at = (count - 1) * channelCount
    for j = 1, channelCount do
      local blobField = false
      if open[j] then
        -- A version the refs name as left to history has no blob: nothing to read, no seed here (false), and
        -- no version string to cut out (most ancestors of a DeltaChannel walk).
        local version = not refsInHistoryAt(record, first, last, escaped[j])
          and refsVersionAt(record, first, last, escaped[j])
        if version then
          if version == lastVersion[j] then
            blobField = lastField[j]
          else
            blobField = fieldPrefix[j] .. version
            lastVersion[j], lastField[j] = version, blobField
          end
          if not wantedSet[blobField] then
            wantedSet[blobField] = true
            wanted[#wanted + 1] = blobField
            wantedChannel[#wanted] = j
            if refsNullAt(record, first, last, escaped[j]) then
              nullField[blobField] = true
            end
          end
        end
      end
      blobFields[at + j] = blobField
    end
    if nextId == stopAt then
      -- The client holds this ancestor's own history: the walk ends once its writes and seeds are taken.
      nextId, stopped = "", 1
    else
      nextId = refsParentAt(record, first, last)
    end
  end
  if count == 0 then
    cursor = ""
    break
  end

  -- The blobs, BLOB_CHUNK at a time, until every channel still walked has met its seed: the blobs past a seed are
  -- never looked at, so an older snapshot or value of the channel is not read for nothing.
  local blobOf, seeded, seededCount = {}, {}, 0
  local from = 1
  while from <= #wanted and seededCount < openCount do
    local to = math.min(from + BLOB_CHUNK - 1, #wanted)
    local values = redis.call("HMGET", blobs, unpack(wanted, from, to))
    for k = 1, #values do
      local value, j = values[k], wantedChannel[from + k - 1]
      if not value and nullField[wanted[from + k - 1]] then
        value = NULL_VALUE_BLOB
      end
      blobOf[wanted[from + k - 1]] = value
      if not seeded[j] and isSeed(value) then
        seeded[j] = true
        seededCount = seededCount + 1
      end
    end
    from = to + 1
  end
  local bundles = pendingWritesBundles(fields, carriedAt)

  cursor = nextId
  for i = 1, count do
    if openCount == 0 or (visits > 0 and bytes >= maxBytes) then
      -- The page is full before the run's end: the next page goes on from ids[i] (and meets stopAt itself).
      cursor, stopped = ids[i], 0
      break
    end
    visits = visits + 1

    -- This ancestor's pieces: its bundle as it is, then its overflow writes to channels still walked.
    local entry, bundle = 0, bundles[i]
    if bundle == true then
      -- Carried in the record: the record goes whole, which spares a copy of the bundle here.
      pieces[#pieces + 1] = records[i]
      bytes = bytes + #records[i]
      entry = 3
    elseif bundle then
      pieces[#pieces + 1] = bundle
      bytes = bytes + #bundle
      entry = 1
    end
    if anyOverflow then
      for _, value in ipairs(pendingWritesOverflow(fields[i])) do
        local channel = writeChannel(value)
        if not channel or walked[channel] then
          pieces[#pieces + 1] = value
          bytes = bytes + #value
          entry = entry + 4
        end
      end
    end
    if entry > 0 then
      local text = entryText[entry]
      if not text then
        text = pendingWritesLength(entry)
        entryText[entry] = text
      end
      entries[#entries + 1] = text
    end
    -- Three parts each, joined once at the end: no string made per ancestor.
    visited[3 * visits - 2], visited[3 * visits - 1], visited[3 * visits] = entry > 0 and "\1" or "\0", ids[i], "\n"

    local at = (i - 1) * channelCount
    for j = 1, channelCount do
      local blobField = open[j] and blobFields[at + j]
      local blob = blobField and blobOf[blobField]
      if isSeed(blob) then
        seeds[#seeds + 1] = names[j]
        seeds[#seeds + 1] = blobField
        seeds[#seeds + 1] = blob
        seeds[#seeds + 1] = #entries
        seeds[#seeds + 1] = visits
        open[j], walked[names[j]] = false, nil
        openCount = openCount - 1
        bytes = bytes + #blob
        if isDeltaBlob(blob) then
          local before = #bases
          blobChain(blobs, blobField, blob, seenBases, bases)
          for k = before + 2, #bases, 2 do
            bytes = bytes + #bases[k]
          end
        end
      end
    end
  end
end

if openCount == 0 then
  cursor, stopped = "", 0
end
return { cursor, table.concat(entries), pieces, seeds, bases, stopped, epoch, table.concat(visited) }

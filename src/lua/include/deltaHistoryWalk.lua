-- deltaHistoryWalk: one page of the ancestor walk behind getDeltaChannelHistory, shared by saverDeltaHistory (a
-- load of its own) and saverRead (the history of the checkpoint getTuple reads, sent with it). The walk, its reads
-- and its result are described in saverDeltaHistory.lua; KEYS are the thread's keys in saverDeltaHistory's order.
--
-- deltaHistoryWalk(ns, cursor, maxVisits, maxBytes, stopAt, channels): the page from ancestor `cursor` (escaped
--   id) on, `channels` a flat list of (channel name, escaped channel name) pairs; returns cursor, entries, pieces,
--   seeds, bases, stopped and visited as saverDeltaHistory's result names them.
-- deltaHistoryUnescape(escaped): a channel name as the refs hold it (escapePart of src/saver/codec.ts), unescaped.
-- @include checkpointRefs
-- @include pendingWrites

-- The channel of a framed write that stands alone (an overflow write): of a PACKED_WRITE frame (7), or the second
-- part of a frame of earlier releases (format byte, then 4-byte big-endian length and bytes per part; plain, 1, or
-- with its value compressed, 3: the channel part is the same in both). nil when the bytes are no such frame.
local function deltaHistoryWriteChannel(value)
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
local function deltaHistoryIsSeed(blob)
  return blob and #blob > 1 and blob ~= IN_HISTORY_MARKER
end

local function deltaHistoryUnescape(escaped)
  return (string.gsub(escaped, "%%(%x%x)", function(hex)
    return string.char(tonumber(hex, 16))
  end))
end

local function deltaHistoryWalk(ns, cursor, maxVisits, maxBytes, stopAt, channels)
  local checkpoints, blobs = KEYS[1], KEYS[2]
  -- Records read before their bundles and blobs are fetched together: the first run reads one (a channel that is
  -- not a DeltaChannel has its seed at the first ancestor, and only that value is read), each next run twice as
  -- many, up to READ_AHEAD.
  local READ_AHEAD = 32
  local runLength = 1
  -- Blobs read per HMGET while looking for the seeds.
  local BLOB_CHUNK = 8

  -- The distinct channels in argument order: names[j], escaped[j], fieldPrefix[j] ("ns\0channel\0", its blob
  -- fields' start), open[j] while walked; walked: name -> true while walked (for overflow writes).
  local names, escaped, fieldPrefix, open, walked, openCount = {}, {}, {}, {}, {}, 0
  for i = 1, #channels, 2 do
    if not walked[channels[i]] then
      openCount = openCount + 1
      names[openCount] = channels[i]
      escaped[openCount] = channels[i + 1]
      fieldPrefix[openCount] = ns .. "\0" .. channels[i + 1] .. "\0"
      open[openCount] = true
      walked[channels[i]] = true
    end
  end
  local channelCount = openCount

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
        if not seeded[j] and deltaHistoryIsSeed(value) then
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
          local channel = deltaHistoryWriteChannel(value)
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
        if deltaHistoryIsSeed(blob) then
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
  return cursor, table.concat(entries), pieces, seeds, bases, stopped, table.concat(visited)
end

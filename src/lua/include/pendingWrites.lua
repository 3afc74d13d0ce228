-- @include framedFirstPart
-- @include recordWrites
-- Pending writes: the one place that reads, adds and removes the writes stored against a checkpoint. Every script
-- that touches them (saverPutWrites, saverRead, saverDeltaHistory, saverDeleteForRuns, saverImportThread, saverPrune
-- and saverPut through include retention) goes through here; saverExportThread copies the writes HASH as it is.
-- Expects the thread's keys in KEYS[1..8] (the saver's order): KEYS[1] is the checkpoints HASH, KEYS[5] the writes
-- HASH, KEYS[6] the writesIndex ZSET.
--
-- Layout, two forms side by side (a checkpoint may have both):
-- - the bundle: a checkpoint's first writes one after another, stored in one of two places, never both: inside its
--   record (the checkpoints hash field `ns\0id`, wrapped as include recordWrites says; before the checkpoint's put,
--   a wrapper of an empty record, "writes ahead", that the put fills in), or in the field `ns\0id` of the writes
--   HASH. A putWrites puts it in the checkpoints hash when the writes are PACKED_WRITE frames (the `compression:
--   false` writer sends frames of earlier releases and keeps their layout) or the record already carries it,
--   unless the writes HASH already holds it (threads of earlier releases); otherwise in the writes HASH. A put of a
--   checkpoint whose field is stored already carries the bundle over into the new record (include putCheckpoint).
--   The bundle holds the writes one after another, each after its length (see src/saver/write-frame.ts): a PACKED_WRITE
--   frame (format byte 7: flags, then task id and task path unless flag 2 says they are the previous write's, idx,
--   channel, type with varint lengths, then the value) after its length as a varint; a frame of earlier releases
--   (format byte PLAIN or DEFLATED, parts taskId, channel, type, bytes, taskPath, idx, each after a 4-byte big-endian
--   length) after its 4-byte big-endian length, whose first byte is 0 (a varint length's never is). A write is appended
--   only while the bundle stays within PENDING_WRITES_BUNDLE_BYTES (a replacement that puts a following write's task
--   back may pass it by that task), so an ordinary step's writes cost one field and no index entry, and a putWrites
--   never copies more than that many bytes. The field is absent when the bundle would be empty. Writes of one call
--   after the first in the bundle are stored with flag 2 (the client sends every write whole); a write whose
--   predecessor is replaced or moved out gets its task back first.
-- - overflow: a write that does not fit (the bundle is full, or the write alone is larger than the limit) has its own
--   field `ns\0id\0taskId\0idx` (escaped parts, sent by the client) and a member of the same name in writesIndex, so
--   one checkpoint's overflow writes are one lex range. Earlier releases stored every write this way: their threads
--   are read and written as they are.
-- A write is known by (taskId, idx): its frame's task id (or its predecessor's) and idx in a bundle, its field in
-- overflow, which holds a frame that stands alone (the client builds the field from the same two: pendingWritesAdd
-- knows the writes it is given by their overflow field, and reads the parts of stored bundle writes only when the
-- bundle holds one of their tasks). Either form holds it at most once.
--
-- pendingWritesAdd(field, writes, from): stores the triples (overflow field, mode, framed write) writes[from..] of
--   checkpoint field: mode "0" only if the write is stored in neither form (a retried task never replaces its first
--   attempt), mode "1" replaces it where it is (in the bundle in place, or its overflow field; a replacement too
--   large for the bundle moves to overflow), else either adds it as above. One HGET and at most one HSET of the
--   bundle (HDEL when it empties), plus an HEXISTS per write that would go into the bundle when the thread has a
--   writes HASH (else one EXISTS in all), and an HSET and ZADD per overflow write. Returns the number stored, or -1
--   when the stored bundle holds one of the tasks and cannot be read (nothing written).
-- pendingWritesRecordBundle(field, record): of a checkpoint and its stored record (as HGET returns it): the record
--   unwrapped and the checkpoint's bundle (false when it has none); a damaged wrapper is returned as it is (the
--   client reports it) with the writes HASH's bundle. A record that carries none costs an HGET of the writes HASH
--   only when the thread has one (one EXISTS per script, asking for both keys at once first: most threads have
--   neither): a list() of a thread whose bundles ride in records reads none.
-- pendingWritesBundles(fields, carriedAt): the stored bundles of many checkpoints, bundles[i] for fields[i]: true
--   when carriedAt[i] says the checkpoint's record carries it (where it starts, as refsBounds found it; the caller
--   sends the record, uncopied), else the writes HASH's bundle from one HMGET per thousand checkpoints (none when the
--   thread has no writes HASH), false when absent.
-- pendingWritesOverflow(field): the checkpoint's overflow writes (framed), in field order.
-- pendingWritesAnyOverflow(): whether the thread has overflow writes at all (asked once per script), so a walk over
--   many checkpoints skips pendingWritesOverflow when it has none.
-- pendingWritesRemove(field, record): deletes the checkpoint's writes in both forms; returns how many writes they
--   were, counting those of `record` (its stored record, false for none), which the caller deletes.
-- pendingWritesCountAll(): the number of writes the thread holds (records' bundles included), for whole-thread
--   deletes, and the number of checkpoints-hash fields that are writes ahead of their checkpoint (no checkpoint).
-- pendingWritesInRecord(record): the number of writes a stored record carries (0 for none).
-- pendingWritesImport(field, value): stores one exported (field, value) pair of the writes HASH, indexing it when it
--   is an overflow field; returns how many writes it holds.

-- Bytes a bundle may hold. A chat step's writes, its message and a branch write, take 0.7 KiB with a 400-character
-- answer and 2.3 KiB with a 2,000-character one (uncompressed); the bound keeps what a putWrites copies of the
-- bundle (an HGET into Lua, about 5 us of Redis CPU at 4 KiB, and the HSET of the new bundle) small and fixed.
local PENDING_WRITES_BUNDLE_BYTES = 4096

local function pendingWritesLength(n)
  return string.char(math.floor(n / 16777216) % 256, math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
end

local function pendingWritesUint32(text, at)
  local b1, b2, b3, b4 = string.byte(text, at, at + 3)
  return ((b1 * 256 + b2) * 256 + b3) * 256 + b4
end

-- The varint (unsigned LEB128, at most 7 bytes) at text[at], and the position after it; nil when it does not end
-- by position `to`.
local function pendingWritesVarint(text, at, to)
  local value, scale = 0, 1
  for i = at, math.min(to, at + 6) do
    local b = string.byte(text, i)
    if b < 128 then
      return value + b * scale, i + 1
    end
    value, scale = value + (b - 128) * scale, scale * 128
  end
  return nil
end

local function pendingWritesVarintText(n)
  local text = ""
  while n >= 128 do
    text = text .. string.char(n % 128 + 128)
    n = math.floor(n / 128)
  end
  return text .. string.char(n)
end

-- A framed write with its length before it, as a bundle entry: a varint for a PACKED_WRITE frame, 4 bytes for the
-- frames of earlier releases.
local function pendingWritesEntry(value)
  if string.byte(value, 1) == 7 then
    return pendingWritesVarintText(#value) .. value
  end
  return pendingWritesLength(#value) .. value
end

local function pendingWritesEntrySize(value)
  if string.byte(value, 1) == 7 then
    local size, n = 1, #value
    while n >= 128 do
      size, n = size + 1, math.floor(n / 128)
    end
    return size + #value
  end
  return 4 + #value
end

-- Of a PACKED_WRITE frame between from and to (inclusive) of text: whether it repeats its predecessor's task (flag 2),
-- and the last position of its task part (task id and path; from + 1 when it repeats), or nil when unreadable.
local function pendingWritesTaskEnd(text, from, to)
  local flags = string.byte(text, from + 1)
  if not flags or flags >= 4 then
    return nil
  end
  if flags >= 2 then
    return true, from + 1
  end
  local taskLength, at = pendingWritesVarint(text, from + 2, to)
  local pathCode
  if taskLength then
    pathCode, at = pendingWritesVarint(text, at + taskLength, to)
  end
  if not pathCode or at + math.floor(pathCode / 4) - 1 > to then
    return nil
  end
  return false, at + math.floor(pathCode / 4) - 1
end

-- The taskId and idx of the framed write between from and to (inclusive) of text, or nil when the bytes are not a
-- frame (such a write never matches another). A PACKED_WRITE frame that repeats its predecessor's task takes
-- `taskId` (that predecessor's); its own task id otherwise.
local function pendingWriteTaskAndIdx(text, from, to, taskId)
  if string.byte(text, from) == 7 then
    local repeats, taskEnd = pendingWritesTaskEnd(text, from, to)
    if repeats == nil or (repeats and not taskId) then
      return nil
    end
    if not repeats then
      local length, at = pendingWritesVarint(text, from + 2, to)
      taskId = string.sub(text, at, at + length - 1)
    end
    local idxLength, at = pendingWritesVarint(text, taskEnd + 1, to)
    if not idxLength or at + idxLength - 1 > to then
      return nil
    end
    return taskId, string.sub(text, at, at + idxLength - 1)
  end
  local at, firstAt, firstLength, lastAt, lastLength = from + 1, nil, 0, nil, 0
  while at + 3 <= to do
    local length = pendingWritesUint32(text, at)
    if not firstAt then
      firstAt, firstLength = at + 4, length
    end
    lastAt, lastLength = at + 4, length
    at = at + 4 + length
  end
  if at ~= to + 1 or not firstAt then
    return nil
  end
  return string.sub(text, firstAt, firstAt + firstLength - 1), string.sub(text, lastAt, lastAt + lastLength - 1)
end

-- A part as the client escapes it in fields (escapePart of src/saver/codec.ts: %, NUL and newline as %XX).
local function pendingWritesEscape(part)
  return (string.gsub(part, "[%%%z\n]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

-- Walks a bundle: calls visit(from, to, start) with the bounds of each framed write and the start of its entry (its
-- length); returns the position of the first byte that is not a whole entry (#bundle + 1 when the bundle is well
-- formed and not empty; 1 for an empty one).
local function pendingWritesWalk(bundle, visit)
  local at, size = 1, #bundle
  while at <= size do
    local length, from
    if string.byte(bundle, at) == 0 then
      if at + 3 > size then
        return at
      end
      length, from = pendingWritesUint32(bundle, at), at + 4
    else
      length, from = pendingWritesVarint(bundle, at, size)
      if not length then
        return at
      end
    end
    if from + length - 1 > size then
      return at
    end
    if visit then
      visit(from, from + length - 1, at)
    end
    at = from + length
  end
  if size == 0 then
    return 1
  end
  return at
end

-- Whether the thread has overflow writes at all, asked once per script: most threads have none, and a read of many
-- checkpoints then costs no range per checkpoint. (Removing writes never makes a false answer wrong.)
local pendingWritesIndexed = nil
-- Whether the thread has a writes HASH at all (pendingWritesInHash below).
local pendingWritesHashed = nil

-- Most threads have neither key (their bundles ride in records): the first question asks for both at once.
local function pendingWritesProbe()
  if pendingWritesIndexed == nil and pendingWritesHashed == nil and redis.call("EXISTS", KEYS[5], KEYS[6]) == 0 then
    pendingWritesIndexed, pendingWritesHashed = false, false
  end
end

local function pendingWritesAnyOverflow()
  if pendingWritesIndexed == nil then
    pendingWritesProbe()
    if pendingWritesIndexed == nil then
      pendingWritesIndexed = redis.call("EXISTS", KEYS[6]) == 1
    end
  end
  return pendingWritesIndexed
end

local function pendingWritesOverflowFields(field)
  if not pendingWritesAnyOverflow() then
    return {}
  end
  return redis.call("ZRANGE", KEYS[6], "[" .. field .. "\0", "(" .. field .. "\1", "BYLEX")
end

-- The values of many writes-hash fields, values[i] for fields[i] (false when missing): HMGET in chunks, as unpack()
-- of thousands of fields would overflow the Lua stack.
local function pendingWritesHashValues(fields)
  local values = {}
  for from = 1, #fields, 1000 do
    local chunk = redis.call("HMGET", KEYS[5], unpack(fields, from, math.min(from + 999, #fields)))
    for i = 1, #chunk do
      values[from + i - 1] = chunk[i]
    end
  end
  return values
end

-- Whether the thread has a writes HASH at all (asked once per script): a thread whose bundles are all in records and
-- that has no overflow writes has none, and a walk then reads no bundle from it.
-- Every write of the HASH in this include sets the answer, so write scripts may rely on it too.
local function pendingWritesInHash()
  if pendingWritesHashed == nil then
    pendingWritesProbe()
    if pendingWritesHashed == nil then
      pendingWritesHashed = redis.call("EXISTS", KEYS[5]) == 1
    end
  end
  return pendingWritesHashed
end

local function pendingWritesBundles(fields, carriedAt)
  local bundles, missing, at = {}, {}, {}
  for i = 1, #fields do
    bundles[i] = carriedAt[i] and true or false
    if not carriedAt[i] then
      missing[#missing + 1] = fields[i]
      at[#missing] = i
    end
  end
  if #missing > 0 then
    if pendingWritesInHash() then
      local values = pendingWritesHashValues(missing)
      for k = 1, #missing do
        bundles[at[k]] = values[k]
      end
    end
  end
  return bundles
end

-- The values of many writes-hash fields, with missing fields left out.
local function pendingWritesValues(fields)
  local values = {}
  for _, value in ipairs(pendingWritesHashValues(fields)) do
    if value then
      values[#values + 1] = value
    end
  end
  return values
end

local function pendingWritesRecordBundle(field, record)
  local inner, carried = recordWritesSplit(record)
  if carried then
    return inner, carried
  end
  return record, pendingWritesInHash() and redis.call("HGET", KEYS[5], field)
end

local function pendingWritesOverflow(field)
  return pendingWritesValues(pendingWritesOverflowFields(field))
end

-- Stores one write in overflow; returns 1 when it was stored (mode "0": only when its field is absent).
local function pendingWritesOverflowSet(overflowField, mode, value)
  pendingWritesHashed = true -- written below, or already holding the field
  if mode == "1" then
    redis.call("HSET", KEYS[5], overflowField, value)
  elseif redis.call("HSETNX", KEYS[5], overflowField, value) == 0 then
    return 0
  end
  redis.call("ZADD", KEYS[6], "0", overflowField)
  pendingWritesIndexed = true
  return 1
end

-- The task id of a write as the client sends it (a frame that stands alone), or nil when it cannot be read.
local function pendingWriteTaskId(value)
  if string.byte(value, 1) == 7 then
    local length, at = pendingWritesVarint(value, 3, #value)
    if not length or at + length - 1 > #value then
      return nil
    end
    return string.sub(value, at, at + length - 1)
  end
  return framedFirstPart(value) -- the task id: the first part of a frame of earlier releases
end

local function pendingWritesAdd(field, writes, from)
  -- Where the bundle is (see the layout above): record is the stored record unwrapped when the bundle goes there.
  local record = redis.call("HGET", KEYS[1], field)
  local bundle = false
  if record then
    record, bundle = recordWritesSplit(record)
    if not record then
      return -1 -- a damaged wrapper: nothing is written over it
    end
  end
  if not bundle then
    bundle = redis.call("HGET", KEYS[5], field)
    if bundle then
      record = false
    else
      bundle = ""
      if string.byte(writes[from + 2], 1) ~= 7 then
        record = false
      elseif not record then
        record = "" -- writes ahead of their checkpoint's put (include recordWrites)
      end
    end
  end
  -- Stored writes of the same tasks: a frame that states its task holds the task id's length and bytes right after
  -- its format byte (and flags), so a plain search finds one (and perhaps bytes inside a value); a write that repeats
  -- its predecessor's task follows one that states it. Only when the search finds one is the bundle walked; a new
  -- task's writes go after the stored ones without reading them. The search is for the length's last byte and the
  -- id: a byte rarer than the zeros that open every 4-byte length, so the search seldom stops to compare.
  local needles, found = {}, false
  for i = from + 2, #writes, 3 do
    local taskId = pendingWriteTaskId(writes[i])
    if taskId then
      needles[string.char(#taskId % 256) .. taskId] = true
      if #taskId >= 128 then
        needles[pendingWritesVarintText(#taskId) .. taskId] = true -- the packed frame's length differs from there
      end
    end
  end
  for needle in pairs(needles) do
    if string.find(bundle, needle, 1, true) then
      found = true
      break
    end
  end
  -- When walked: entries lists every stored entry in order as { start of its length, first, last, repeats, first
  -- and last of the task part it repeats }; storedAt maps the overflow field of each stored write to its entry.
  local storedAt, entries = {}, {}
  if found then
    local taskId, taskFirst, taskLast = nil, nil, nil -- of the last PACKED_WRITE frame that states its task
    local stop = pendingWritesWalk(bundle, function(first, last, start)
      local entry, id, idx = { start, first, last, false }, nil, nil
      local repeats, taskEnd = nil, nil
      if string.byte(bundle, first) == 7 then
        repeats, taskEnd = pendingWritesTaskEnd(bundle, first, last)
      end
      if repeats then
        if taskFirst then
          entry[4], entry[5], entry[6] = true, taskFirst, taskLast
          id, idx = pendingWriteTaskAndIdx(bundle, first, last, taskId)
        end
      else
        id, idx = pendingWriteTaskAndIdx(bundle, first, last)
        if repeats == false then
          taskId, taskFirst, taskLast = id, first + 2, taskEnd
        else
          taskId, taskFirst, taskLast = nil, nil, nil
        end
      end
      entries[#entries + 1] = entry
      local identity = id and field .. "\0" .. pendingWritesEscape(id) .. "\0" .. idx
      if identity and not storedAt[identity] then
        storedAt[identity] = entry
      end
    end)
    if stop <= #bundle then
      return -1
    end
  end
  -- size: the bundle's length once this call's changes are made. replaced: first byte of a stored write -> { its
  -- entry, new value or false when it leaves the bundle }. added: values appended (false once moved out again).
  local size, count, replaced, changes, added, addedAt, overflowed = #bundle, 0, {}, 0, {}, {}, {}
  for i = from, #writes, 3 do
    local overflowField, mode, value = writes[i], writes[i + 1], writes[i + 2]
    local old, mine = storedAt[overflowField], addedAt[overflowField]
    if old or mine then
      if mode == "1" then
        local first = old and old[2]
        local currentSize
        if old then
          currentSize = replaced[first] and pendingWritesEntrySize(replaced[first][2]) or old[3] - old[1] + 1
        else
          currentSize = pendingWritesEntrySize(added[mine])
        end
        if size - currentSize + pendingWritesEntrySize(value) <= PENDING_WRITES_BUNDLE_BYTES then
          size = size - currentSize + pendingWritesEntrySize(value)
          if old then
            replaced[first] = { old, value }
          else
            added[mine] = value
          end
        else
          size = size - currentSize
          if old then
            replaced[first] = { old, false }
            storedAt[overflowField] = nil
          else
            added[mine] = false
            addedAt[overflowField] = nil
          end
          overflowed[overflowField] = true
          pendingWritesOverflowSet(overflowField, "1", value)
        end
        if old then
          changes = changes + 1
        end
        count = count + 1
      end
    elseif overflowed[overflowField] then
      count = count + pendingWritesOverflowSet(overflowField, mode, value)
    elseif size + pendingWritesEntrySize(value) <= PENDING_WRITES_BUNDLE_BYTES then
      -- A thread without a writes HASH has no overflow write to find (one EXISTS per script instead of an HEXISTS
      -- per write; every write of the HASH in this include updates that answer).
      if pendingWritesInHash() and redis.call("HEXISTS", KEYS[5], overflowField) == 1 then
        if mode == "1" then
          count = count + pendingWritesOverflowSet(overflowField, "1", value)
        end
        overflowed[overflowField] = true
      else
        added[#added + 1] = value
        addedAt[overflowField] = #added
        size = size + pendingWritesEntrySize(value)
        count = count + 1
      end
    else
      count = count + pendingWritesOverflowSet(overflowField, mode, value)
      overflowed[overflowField] = true
    end
  end
  if #added == 0 and changes == 0 then
    return count
  end
  -- The appended writes (one call's: one task). A PACKED_WRITE frame after one of the same task part is stored
  -- with flag 2 and without that part.
  local tail, lastTask = {}, nil
  for _, value in ipairs(added) do
    if value then
      local task = nil
      if string.byte(value, 1) == 7 then
        local repeats, taskEnd = pendingWritesTaskEnd(value, 1, #value)
        if repeats == false then
          task = string.sub(value, 3, taskEnd)
          if task == lastTask then
            value = string.char(7, string.byte(value, 2) + 2) .. string.sub(value, taskEnd + 1)
          end
        end
      end
      lastTask = task
      tail[#tail + 1] = pendingWritesEntry(value)
    end
  end
  local result
  if changes == 0 then
    -- The stored bundle first: a new task's writes are one concatenation.
    result = bundle .. table.concat(tail)
  else
    -- Replaced writes keep their place: the bundle is copied around them, and a write that repeats the task of one
    -- replaced or moved out gets its task part back.
    local parts, orphan = {}, false
    for _, entry in ipairs(entries) do
      local change = replaced[entry[2]]
      if change then
        if change[2] then
          parts[#parts + 1] = pendingWritesEntry(change[2])
        end
        orphan = true
      elseif orphan and entry[4] then
        local first = entry[2]
        parts[#parts + 1] = pendingWritesEntry(
          string.char(7, string.byte(bundle, first + 1) - 2)
            .. string.sub(bundle, entry[5], entry[6])
            .. string.sub(bundle, first + 2, entry[3])
        )
        orphan = false
      else
        parts[#parts + 1] = string.sub(bundle, entry[1], entry[3])
        orphan = false
      end
    end
    parts[#parts + 1] = table.concat(tail)
    result = table.concat(parts)
  end
  if result == bundle then
    return count
  end
  if record then
    local value = recordWritesWrap(record, result)
    if value == "" then
      redis.call("HDEL", KEYS[1], field)
    else
      redis.call("HSET", KEYS[1], field, value)
    end
  elseif result == "" then
    redis.call("HDEL", KEYS[5], field)
  else
    redis.call("HSET", KEYS[5], field, result)
    pendingWritesHashed = true
  end
  return count
end

local function pendingWritesCount(bundle)
  local count = 0
  pendingWritesWalk(bundle, function()
    count = count + 1
  end)
  return count
end

local function pendingWritesInRecord(record)
  if string.byte(record, 1) ~= 8 then
    return 0
  end
  local _, carried = recordWritesSplit(record)
  return carried and pendingWritesCount(carried) or 0
end

local function pendingWritesRemove(field, record)
  local removed = record and pendingWritesInRecord(record) or 0
  local bundle = redis.call("HGET", KEYS[5], field)
  if bundle then
    redis.call("HDEL", KEYS[5], field)
    removed = pendingWritesCount(bundle)
  end
  local fields = pendingWritesOverflowFields(field)
  for from = 1, #fields, 1000 do
    local chunk = { unpack(fields, from, math.min(from + 999, #fields)) }
    removed = removed + redis.call("HDEL", KEYS[5], unpack(chunk))
    redis.call("ZREM", KEYS[6], unpack(chunk))
  end
  return removed
end

-- An overflow field has parts after `ns\0id`; a bundle field has none.
local function pendingWritesIsOverflowField(field)
  local first = string.find(field, "\0", 1, true)
  return first ~= nil and string.find(field, "\0", first + 1, true) ~= nil
end

-- Calls visit(field, value) for every field of a hash, its values read a thousand at a time (HKEYS, then HMGET): a
-- long thread's records are not all copied into the script's memory at once, as one HGETALL copies them (for 100,000
-- checkpoints of 1 KB steps the server's resident memory grew by 44 MB that way, by 21 MB this way).
local function pendingWritesEachValue(key, visit)
  local fields = redis.call("HKEYS", key)
  for from = 1, #fields, 1000 do
    local values = redis.call("HMGET", key, unpack(fields, from, math.min(from + 999, #fields)))
    for i = 1, #values do
      if values[i] then
        visit(fields[from + i - 1], values[i])
      end
    end
  end
end

local function pendingWritesCountAll()
  local count, ahead = 0, 0
  pendingWritesEachValue(KEYS[5], function(field, value)
    count = count + (pendingWritesIsOverflowField(field) and 1 or pendingWritesCount(value))
  end)
  pendingWritesEachValue(KEYS[1], function(_, record)
    count = count + pendingWritesInRecord(record)
    if recordWritesAhead(record) then
      ahead = ahead + 1
    end
  end)
  return count, ahead
end

local function pendingWritesImport(field, value)
  redis.call("HSET", KEYS[5], field, value)
  pendingWritesHashed = true
  if pendingWritesIsOverflowField(field) then
    redis.call("ZADD", KEYS[6], "0", field)
    pendingWritesIndexed = true
    return 1
  end
  return pendingWritesCount(value)
end

-- @include framedFirstPart
-- Pending writes: the one place that reads, adds and removes the writes stored against a checkpoint. Every script
-- that touches them (saverPutWrites, saverRead, saverDeltaHistory, saverDeleteForRuns, saverImportThread, saverPrune
-- and saverPut through include retention) goes through here; saverExportThread copies the writes HASH as it is.
-- Expects the thread's keys in KEYS[1..8] (the saver's order): KEYS[5] is the writes HASH, KEYS[6] the writesIndex
-- ZSET.
--
-- Layout, two forms side by side in the writes HASH (a checkpoint may have both):
-- - the bundle: the field `ns\0id` of a checkpoint (its field in the checkpoints hash) holds its first writes one
--   after another, each as a 4-byte big-endian length then the framed write (format byte PLAIN or DEFLATED, parts
--   taskId, channel, type, bytes, taskPath, idx; see src/saver/codec.ts). A write is appended only while the bundle
--   stays within PENDING_WRITES_BUNDLE_BYTES, so an ordinary step's writes cost one field and no index entry, and a
--   putWrites never copies more than that many bytes. The field is absent when the bundle would be empty.
-- - overflow: a write that does not fit (the bundle is full, or the write alone is larger than the limit) has its own
--   field `ns\0id\0taskId\0idx` (escaped parts, sent by the client) and a member of the same name in writesIndex, so
--   one checkpoint's overflow writes are one lex range. Earlier releases stored every write this way: their threads
--   are read and written as they are.
-- A write is known by (taskId, idx): its frame's first and last parts in a bundle, its field in overflow (which the
-- client builds from the same two: pendingWritesAdd knows the writes it is given by their overflow field, and reads
-- the parts of stored bundle writes only for the tasks it finds there). Either form holds it at most once.
--
-- pendingWritesAdd(field, writes, from): stores the triples (overflow field, mode, framed write) writes[from..] of
--   checkpoint field: mode "0" only if the write is stored in neither form (a retried task never replaces its first
--   attempt), mode "1" replaces it where it is (in the bundle in place, or its overflow field; a replacement too
--   large for the bundle moves to overflow), else either adds it as above. One HGET and at most one HSET of the
--   bundle (HDEL when it empties), plus an HEXISTS per write that would go into the bundle and an HSET and ZADD per
--   overflow write. Returns the number stored, or -1 when the stored bundle holds one of the tasks and cannot be
--   read (nothing written).
-- pendingWritesBundle(field): the stored bundle of a checkpoint, or false.
-- pendingWritesBundles(fields): the stored bundles of many checkpoints, bundles[i] for fields[i] (false when
--   absent): one HMGET per thousand checkpoints instead of an HGET each.
-- pendingWritesOverflow(field): the checkpoint's overflow writes (framed), in field order.
-- pendingWritesAnyOverflow(): whether the thread has overflow writes at all (asked once per script), so a walk over
--   many checkpoints skips pendingWritesOverflow when it has none.
-- pendingWritesList(field): every framed write of the checkpoint: the bundle's in stored order, then overflow. An
--   unreadable bundle ends its part of the list with one more value that is not a frame of six parts, so the
--   client that decodes the list reports the corruption.
-- pendingWritesRemove(field): deletes the checkpoint's writes in both forms; returns how many writes they were.
-- pendingWritesCountAll(): the number of writes the thread holds, for whole-thread deletes.
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

-- The taskId and idx parts of the framed write between from and to (inclusive) of text, or nil when the bytes are
-- not a frame (such a write never matches another).
local function pendingWriteTaskAndIdx(text, from, to)
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

-- Walks a bundle: calls visit(from, to) with the bounds of each framed write; returns the position of the first
-- byte that is not a whole entry (#bundle + 1 when the bundle is well formed and not empty; 1 for an empty one).
local function pendingWritesWalk(bundle, visit)
  local at, size = 1, #bundle
  while at + 3 <= size do
    local length = pendingWritesUint32(bundle, at)
    if at + 3 + length > size then
      return at
    end
    if visit then
      visit(at + 4, at + 3 + length)
    end
    at = at + 4 + length
  end
  if size == 0 then
    return 1
  end
  return at
end

-- Whether the thread has overflow writes at all, asked once per script: most threads have none, and a read of many
-- checkpoints then costs no range per checkpoint. (Removing writes never makes a false answer wrong.)
local pendingWritesIndexed = nil

local function pendingWritesAnyOverflow()
  if pendingWritesIndexed == nil then
    pendingWritesIndexed = redis.call("EXISTS", KEYS[6]) == 1
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
local function pendingWritesBundles(fields)
  local values = {}
  for from = 1, #fields, 1000 do
    local chunk = redis.call("HMGET", KEYS[5], unpack(fields, from, math.min(from + 999, #fields)))
    for i = 1, #chunk do
      values[from + i - 1] = chunk[i]
    end
  end
  return values
end

-- The same, with missing fields left out.
local function pendingWritesValues(fields)
  local values = {}
  for _, value in ipairs(pendingWritesBundles(fields)) do
    if value then
      values[#values + 1] = value
    end
  end
  return values
end

local function pendingWritesBundle(field)
  return redis.call("HGET", KEYS[5], field)
end

local function pendingWritesOverflow(field)
  return pendingWritesValues(pendingWritesOverflowFields(field))
end

local function pendingWritesList(field)
  local bundle = redis.call("HGET", KEYS[5], field)
  local list = {}
  if bundle then
    local stop = pendingWritesWalk(bundle, function(from, to)
      list[#list + 1] = string.sub(bundle, from, to)
    end)
    if stop <= #bundle or #bundle == 0 then
      list[#list + 1] = string.sub(bundle, stop)
    end
  end
  for _, value in ipairs(pendingWritesOverflow(field)) do
    list[#list + 1] = value
  end
  return list
end

-- Stores one write in overflow; returns 1 when it was stored (mode "0": only when its field is absent).
local function pendingWritesOverflowSet(overflowField, mode, value)
  if mode == "1" then
    redis.call("HSET", KEYS[5], overflowField, value)
  elseif redis.call("HSETNX", KEYS[5], overflowField, value) == 0 then
    return 0
  end
  redis.call("ZADD", KEYS[6], "0", overflowField)
  pendingWritesIndexed = true
  return 1
end

local function pendingWritesAdd(field, writes, from)
  local bundle = redis.call("HGET", KEYS[5], field) or ""
  local needles = {}
  for i = from + 2, #writes, 3 do
    local taskId = framedFirstPart(writes[i]) -- the task id: a write's first part
    if taskId then
      needles[taskId] = true
    end
  end
  -- Stored writes of the same tasks: their frame holds the task id's length and bytes right after the format byte,
  -- so a plain search finds every one (and perhaps bytes inside a value). Only when it finds some is the bundle
  -- walked; a new task's writes go after the stored ones without reading them. The search is for the length's last
  -- byte and the id: a byte rarer than the zeros that open every length, so the search seldom stops to compare.
  local candidates, found = {}, false
  for taskId in pairs(needles) do
    local needle = string.char(#taskId % 256) .. taskId
    local at = string.find(bundle, needle, 1, true)
    while at do
      candidates[at - 3] = true
      found = true
      at = string.find(bundle, needle, at + 1, true)
    end
  end
  local storedAt = {} -- overflow field -> { first, last } of a stored bundle write of one of the tasks
  if found then
    local stop = pendingWritesWalk(bundle, function(first, last)
      if candidates[first + 1] then
        local taskId, idx = pendingWriteTaskAndIdx(bundle, first, last)
        local identity = taskId and field .. "\0" .. pendingWritesEscape(taskId) .. "\0" .. idx
        if identity and not storedAt[identity] then
          storedAt[identity] = { first, last }
        end
      end
    end)
    if stop <= #bundle then
      return -1
    end
  end
  -- size: the bundle's length once this call's changes are made. replaced: start of a stored write -> { its end,
  -- new value or false when it leaves the bundle }. added: values appended (false once moved out again).
  local size, count, replaced, starts, added, addedAt, overflowed = #bundle, 0, {}, {}, {}, {}, {}
  for i = from, #writes, 3 do
    local overflowField, mode, value = writes[i], writes[i + 1], writes[i + 2]
    local old, mine = storedAt[overflowField], addedAt[overflowField]
    if old or mine then
      if mode == "1" then
        local first = old and old[1]
        local current
        if old then
          current = replaced[first] and replaced[first][2] or string.sub(bundle, first, old[2])
        else
          current = added[mine]
        end
        if size - #current + #value <= PENDING_WRITES_BUNDLE_BYTES then
          size = size - #current + #value
          if old then
            replaced[first] = { old[2], value }
          else
            added[mine] = value
          end
        else
          size = size - 4 - #current
          if old then
            replaced[first] = { old[2], false }
            storedAt[overflowField] = nil
          else
            added[mine] = false
            addedAt[overflowField] = nil
          end
          overflowed[overflowField] = true
          pendingWritesOverflowSet(overflowField, "1", value)
        end
        if old and not starts[first] then
          starts[first] = true
          starts[#starts + 1] = first
        end
        count = count + 1
      end
    elseif overflowed[overflowField] then
      count = count + pendingWritesOverflowSet(overflowField, mode, value)
    elseif size + 4 + #value <= PENDING_WRITES_BUNDLE_BYTES then
      if redis.call("HEXISTS", KEYS[5], overflowField) == 1 then
        if mode == "1" then
          count = count + pendingWritesOverflowSet(overflowField, "1", value)
        end
        overflowed[overflowField] = true
      else
        added[#added + 1] = value
        addedAt[overflowField] = #added
        size = size + 4 + #value
        count = count + 1
      end
    else
      count = count + pendingWritesOverflowSet(overflowField, mode, value)
      overflowed[overflowField] = true
    end
  end
  if #added == 0 and #starts == 0 then
    return count
  end
  -- The stored bundle first: a new task's writes are one concatenation.
  local tail = { #starts == 0 and bundle or "" }
  for _, value in ipairs(added) do
    if value then
      tail[#tail + 1] = pendingWritesLength(#value)
      tail[#tail + 1] = value
    end
  end
  local result
  if #starts == 0 then
    result = table.concat(tail)
  else
    -- Replaced writes keep their place: the bundle is copied around them.
    table.sort(starts)
    local parts, cursor = {}, 1
    for _, first in ipairs(starts) do
      local last, value = replaced[first][1], replaced[first][2]
      parts[#parts + 1] = string.sub(bundle, cursor, first - 5)
      if value then
        parts[#parts + 1] = pendingWritesLength(#value)
        parts[#parts + 1] = value
      end
      cursor = last + 1
    end
    parts[#parts + 1] = string.sub(bundle, cursor)
    parts[#parts + 1] = table.concat(tail)
    result = table.concat(parts)
  end
  if result == "" then
    redis.call("HDEL", KEYS[5], field)
  elseif result ~= bundle then
    redis.call("HSET", KEYS[5], field, result)
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

local function pendingWritesRemove(field)
  local removed = 0
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

local function pendingWritesCountAll()
  local all, count = redis.call("HGETALL", KEYS[5]), 0
  for i = 1, #all, 2 do
    if pendingWritesIsOverflowField(all[i]) then
      count = count + 1
    else
      count = count + pendingWritesCount(all[i + 1])
    end
  end
  return count
end

local function pendingWritesImport(field, value)
  redis.call("HSET", KEYS[5], field, value)
  if pendingWritesIsOverflowField(field) then
    redis.call("ZADD", KEYS[6], "0", field)
    pendingWritesIndexed = true
    return 1
  end
  return pendingWritesCount(value)
end

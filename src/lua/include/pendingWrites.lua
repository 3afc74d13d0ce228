-- Pending writes: the one place that reads, adds and removes the writes stored against a checkpoint. Every script
-- that touches them (saverPutWrites, saverPut, saverRead, saverDeltaHistory, saverDeleteForRuns, saverPrune and
-- include retention, saverExportThread, saverImportThread) goes through here. Expects the thread's keys in KEYS[1..8]
-- (the saver's order): KEYS[5] is the writes HASH, KEYS[6] the writesIndex of the layout before.
--
-- Layout: the writes HASH field of a checkpoint is its checkpoint field `ns\0id` (as in the checkpoints hash); it
-- holds a bundle, every pending write of that checkpoint one after another, each as a 4-byte big-endian length then
-- the framed write (format byte PLAIN or DEFLATED, parts taskId, channel, type, bytes, taskPath, idx; see
-- src/saver/codec.ts). A write is known by (taskId, idx): its first and last part. A field is absent when the
-- checkpoint has no writes; a bundle is never empty.
--
-- The layout before (older releases): one field `ns\0id\0taskId\0idx` per write, holding the framed write, plus the
-- writesIndex ZSET (KEYS[6]) of those fields so one checkpoint's writes were a lex range. A thread still in that
-- layout has its writesIndex key: read scripts read it as it is, write scripts convert it first (pendingWritesMigrate).
--
-- pendingWritesMigrate(): converts a thread in the old layout (one EXISTS when it is not): each checkpoint's old
--   fields become its bundle, the old fields and the writesIndex key go. Every script that adds or removes writes
--   calls it first (after its own refusal checks, so a refused call writes nothing).
-- pendingWritesBundle(field): the stored bundle of a checkpoint field, or false when it has no writes (either layout;
--   an old layout's writes are bundled on the fly).
-- pendingWritesList(field): the framed writes of a checkpoint field, in stored order (either layout). Unreadable
--   bundle bytes end the list as one more value that is not a frame of six parts, so the client that decodes the
--   list reports the corruption.
-- pendingWritesAdd(field, writes, from): adds the (mode, framed write) pairs writes[from..] to the checkpoint's bundle
--   with one HGET and one HSET: mode "0" only if no write with the same (taskId, idx) is there (a retried task never
--   replaces its first attempt), mode "1" replaces that write in place (special writes: error, interrupt, scheduled,
--   resume). The stored bundle is walked only when it holds writes of the same task; a task writing for the first
--   time costs a plain search and a copy. Returns the number stored, or -1 when a walked bundle is unreadable
--   (nothing written). New layout only.
-- pendingWritesRemove(field): deletes a checkpoint's writes; returns how many writes they were. New layout only.
-- pendingWritesCountAll(): the number of writes the thread holds (either layout), for whole-thread deletes.
-- pendingWritesAll(): flat list field, bundle of every checkpoint with writes (either layout), for export.

local pendingWritesOldLayout = nil

local function pendingWritesIsOld()
  if pendingWritesOldLayout == nil then
    pendingWritesOldLayout = redis.call("EXISTS", KEYS[6]) == 1
  end
  return pendingWritesOldLayout
end

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

local function pendingWriteIdentity(text, from, to)
  local taskId, idx = pendingWriteTaskAndIdx(text, from, to)
  return taskId and taskId .. "\0" .. idx
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

local function pendingWritesOldFields(field)
  return redis.call("ZRANGE", KEYS[6], "[" .. field .. "\0", "(" .. field .. "\1", "BYLEX")
end

-- The values of the old layout's fields, HMGET in chunks (unpack() of thousands would overflow the Lua stack).
local function pendingWritesOldValues(fields)
  local values = {}
  for from = 1, #fields, 1000 do
    local chunk = redis.call("HMGET", KEYS[5], unpack(fields, from, math.min(from + 999, #fields)))
    for i = 1, #chunk do
      values[#values + 1] = chunk[i]
    end
  end
  return values
end

local function pendingWritesBundleOf(values)
  local parts = {}
  for i = 1, #values do
    if values[i] then
      parts[#parts + 1] = pendingWritesLength(#values[i])
      parts[#parts + 1] = values[i]
    end
  end
  if #parts == 0 then
    return false
  end
  return table.concat(parts)
end

-- Every checkpoint field of the old layout with its bundle: fields, bundles (same order).
local function pendingWritesOldBundles()
  local oldFields = redis.call("ZRANGE", KEYS[6], 0, -1)
  local values = pendingWritesOldValues(oldFields)
  local fields, grouped, byField = {}, {}, {}
  for i = 1, #oldFields do
    local old = oldFields[i]
    local first = string.find(old, "\0", 1, true)
    local second = first and string.find(old, "\0", first + 1, true)
    local field = second and string.sub(old, 1, second - 1) or old
    if not byField[field] then
      byField[field] = {}
      fields[#fields + 1] = field
    end
    local list = byField[field]
    list[#list + 1] = values[i] or false
  end
  for i = 1, #fields do
    grouped[i] = pendingWritesBundleOf(byField[fields[i]])
  end
  return fields, grouped, oldFields
end

local function pendingWritesMigrate()
  if not pendingWritesIsOld() then
    return
  end
  local fields, bundles, oldFields = pendingWritesOldBundles()
  -- New fields first: deleting the old ones first could empty the hash, and a new hash would lose the thread's TTL.
  for i = 1, #fields do
    if bundles[i] then
      redis.call("HSET", KEYS[5], fields[i], bundles[i])
    end
  end
  for from = 1, #oldFields, 1000 do
    redis.call("HDEL", KEYS[5], unpack(oldFields, from, math.min(from + 999, #oldFields)))
  end
  redis.call("DEL", KEYS[6])
  pendingWritesOldLayout = false
end

local function pendingWritesBundle(field)
  if pendingWritesIsOld() then
    return pendingWritesBundleOf(pendingWritesOldValues(pendingWritesOldFields(field)))
  end
  return redis.call("HGET", KEYS[5], field)
end

local function pendingWritesList(field)
  if pendingWritesIsOld() then
    local values, list = pendingWritesOldValues(pendingWritesOldFields(field)), {}
    for i = 1, #values do
      if values[i] then
        list[#list + 1] = values[i]
      end
    end
    return list
  end
  local bundle = redis.call("HGET", KEYS[5], field)
  local list = {}
  if not bundle then
    return list
  end
  local stop = pendingWritesWalk(bundle, function(from, to)
    list[#list + 1] = string.sub(bundle, from, to)
  end)
  if stop <= #bundle or #bundle == 0 then
    list[#list + 1] = string.sub(bundle, stop)
  end
  return list
end

local function pendingWritesAdd(field, writes, from)
  local bundle = redis.call("HGET", KEYS[5], field) or ""
  local news, needles = {}, {}
  for i = from, #writes, 2 do
    local value = writes[i + 1]
    local taskId, idx = pendingWriteTaskAndIdx(value, 1, #value)
    news[#news + 1] = { writes[i], value, taskId and taskId .. "\0" .. idx }
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
  local storedAt = {} -- identity -> { first, last } of a stored write of one of the tasks
  if found then
    local stop = pendingWritesWalk(bundle, function(first, last)
      if candidates[first + 1] then
        local identity = pendingWriteIdentity(bundle, first, last)
        if identity and not storedAt[identity] then
          storedAt[identity] = { first, last }
        end
      end
    end)
    if stop <= #bundle then
      return -1
    end
  end
  local count, added, addedAt, replaced, starts = 0, {}, {}, {}, {}
  for _, new in ipairs(news) do
    local mode, value, identity = new[1], new[2], new[3]
    local old = identity and storedAt[identity]
    local mine = identity and addedAt[identity]
    if old then
      if mode == "1" then
        if not replaced[old[1]] then
          starts[#starts + 1] = old[1]
        end
        replaced[old[1]] = { old[2], value }
        count = count + 1
      end
    elseif mine then
      if mode == "1" then
        added[mine] = value
        count = count + 1
      end
    else
      added[#added + 1] = value
      if identity then
        addedAt[identity] = #added
      end
      count = count + 1
    end
  end
  if count == 0 then
    return 0
  end
  local tail = {}
  for _, value in ipairs(added) do
    tail[#tail + 1] = pendingWritesLength(#value)
    tail[#tail + 1] = value
  end
  if #starts == 0 then
    -- One concatenation: building a long Lua string costs in proportion to its length, so make only one.
    redis.call("HSET", KEYS[5], field, bundle .. table.concat(tail))
    return count
  end
  -- Replaced writes keep their place: the bundle is copied around them.
  table.sort(starts)
  local parts, cursor = {}, 1
  for _, first in ipairs(starts) do
    local last, value = replaced[first][1], replaced[first][2]
    parts[#parts + 1] = string.sub(bundle, cursor, first - 5)
    parts[#parts + 1] = pendingWritesLength(#value)
    parts[#parts + 1] = value
    cursor = last + 1
  end
  parts[#parts + 1] = string.sub(bundle, cursor)
  parts[#parts + 1] = table.concat(tail)
  redis.call("HSET", KEYS[5], field, table.concat(parts))
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
  local bundle = redis.call("HGET", KEYS[5], field)
  if not bundle then
    return 0
  end
  redis.call("HDEL", KEYS[5], field)
  return pendingWritesCount(bundle)
end

local function pendingWritesCountAll()
  if pendingWritesIsOld() then
    return redis.call("HLEN", KEYS[5])
  end
  local count = 0
  for _, bundle in ipairs(redis.call("HVALS", KEYS[5])) do
    count = count + pendingWritesCount(bundle)
  end
  return count
end

local function pendingWritesAll()
  if not pendingWritesIsOld() then
    return redis.call("HGETALL", KEYS[5])
  end
  local fields, bundles = pendingWritesOldBundles()
  local out = {}
  for i = 1, #fields do
    if bundles[i] then
      out[#out + 1] = fields[i]
      out[#out + 1] = bundles[i]
    end
  end
  return out
end

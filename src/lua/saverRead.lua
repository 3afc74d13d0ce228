--[[
  saverRead: reads up to `limit` checkpoints of one thread, newest first, each with its record, the channel
  blobs its versions point at and its pending writes: getTuple and one page of list() in one round trip.
  Optionally refreshes the TTL of every key of the thread (refreshOnRead).

  KEYS[1] checkpoints   HASH  ns\0id -> framed checkpoint record: a format byte, then 4-byte big-endian length and
                        bytes per part; the first part is "parentId\nchannel\0version\n..." (the refs)
  KEYS[2] blobs         HASH  ns\0channel\0version -> framed channel value
  KEYS[3] byNamespace   ZSET  ns\0id
  KEYS[4] byId          ZSET  id\0ns
  KEYS[5] writes        HASH  ns\0id\0taskId\0idx -> framed pending write
  KEYS[6] writesIndex   ZSET  the writes fields

  ARGV[1] index         "ns" ranges byNamespace (one namespace), "id" ranges byId (every namespace)
  ARGV[2] max           lex bound, newest end of the range ("[x", "(x" or "+")
  ARGV[3] min           lex bound, oldest end of the range ("[x", "(x" or "-")
  ARGV[4] limit         most checkpoints to return (integer >= 1)
  ARGV[5] ttlMs         refresh every key's TTL to this many milliseconds; "0" leaves TTLs alone

  Result: { checkpointCount, entries } where checkpointCount is the number of checkpoints the thread holds (0 means
  the thread has none) and each entry is { field, record, blobValues, writeValues }: blobValues in the order
  of the refs lines (nil where missing; none when the record's framing is unreadable, which the client reports),
  writeValues in lex order of their fields.

  Errors: none (a key of another Redis type fails with WRONGTYPE, reported as CorruptCheckpointError).
]]
local checkpoints, blobs = KEYS[1], KEYS[2]
local byNamespace, byId, writes, writesIndex = KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local index, max, min = ARGV[1], ARGV[2], ARGV[3]
local limit, ttlMs = tonumber(ARGV[4]), tonumber(ARGV[5])

-- The refs text: the record's first framed part (format byte 1, then a 4-byte big-endian length).
local function refsOf(record)
  if #record < 5 or string.byte(record, 1) ~= 1 then
    return ""
  end
  local b1, b2, b3, b4 = string.byte(record, 2, 5)
  local length = ((b1 * 256 + b2) * 256 + b3) * 256 + b4
  if 5 + length > #record then
    return ""
  end
  return string.sub(record, 6, 5 + length)
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

local members
if index == "ns" then
  members = redis.call("ZRANGE", byNamespace, max, min, "BYLEX", "REV", "LIMIT", 0, limit)
else
  members = redis.call("ZRANGE", byId, max, min, "BYLEX", "REV", "LIMIT", 0, limit)
end

local entries = {}
for _, member in ipairs(members) do
  local cut = string.find(member, "\0", 1, true)
  local field, ns
  if index == "ns" then
    field, ns = member, string.sub(member, 1, cut - 1)
  else
    ns = string.sub(member, cut + 1)
    field = ns .. "\0" .. string.sub(member, 1, cut - 1)
  end
  local record = redis.call("HGET", checkpoints, field)
  if record then
    local refsText = refsOf(record)
    local blobFields = {}
    local lineStart, first = 1, true
    while lineStart <= #refsText + 1 do
      local lineEnd = string.find(refsText, "\n", lineStart, true) or (#refsText + 1)
      if first then
        first = false
      else
        blobFields[#blobFields + 1] = ns .. "\0" .. string.sub(refsText, lineStart, lineEnd - 1)
      end
      lineStart = lineEnd + 1
    end
    local blobValues = hmget(blobs, blobFields)
    local writeFields = redis.call("ZRANGE", writesIndex, "[" .. field .. "\0", "(" .. field .. "\1", "BYLEX")
    local writeValues = hmget(writes, writeFields)
    entries[#entries + 1] = { field, record, blobValues, writeValues }
  end
end

if ttlMs > 0 and #members > 0 then
  for i = 1, #KEYS do
    redis.call("PEXPIRE", KEYS[i], ttlMs)
  end
end
return { redis.call("ZCARD", byId), entries }

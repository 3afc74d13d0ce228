--[[
  saverRead: reads up to `limit` checkpoints of one thread, newest first, each with its record, the channel
  blobs its versions point at and its pending writes: getTuple and one page of list() in one round trip.
  Optionally refreshes the TTL of every key of the thread (refreshOnRead).

  KEYS[1] checkpoints   HASH  ns\0id -> framed checkpoint record: a format byte, then 4-byte big-endian length and
                        bytes per part; the first part is "parentId\nchannel\0version\n..." (the refs)
  KEYS[2] blobs         HASH  ns\0channel\0version -> framed channel value
  KEYS[3] byNamespace   ZSET  ns\0id
  KEYS[4] byId          ZSET  id\0ns
  KEYS[5] writes        HASH  ns\0id -> the checkpoint's pending writes, one bundle (include pendingWrites)
  KEYS[6] writesIndex   ZSET  exists only for a thread in the layout before (read as it is; include pendingWrites)
  KEYS[7] runFences     HASH  (TTL refresh only)
  KEYS[8] byRun         ZSET  (TTL refresh only)

  ARGV[1] index         "ns" ranges byNamespace (one namespace), "id" ranges byId (every namespace)
  ARGV[2] max           lex bound, newest end of the range ("[x", "(x" or "+")
  ARGV[3] min           lex bound, oldest end of the range ("[x", "(x" or "-")
  ARGV[4] limit         most checkpoints to return (integer >= 1)
  ARGV[5] ttlMs         refresh every key's TTL to this many milliseconds; "0" leaves TTLs alone
  ARGV[6..]             optional pairs of (blob field, stored length in bytes): blobs the client already holds (the
                        values this process last wrote). A returned checkpoint that points at one of them, stored
                        with that length, gets "" for it in blobValues and none of its bases: the bytes stay here

  Result: { checkpointCount, entries, bases } where checkpointCount is the number of checkpoints the thread holds
  (0 means the thread has none) and each entry is { field, record, blobValues, writes }: blobValues in the
  order of the refs lines (nil where missing, "" where the client holds it (ARGV[6..]); none when the record's
  framing is unreadable, which the client reports), writes the checkpoint's bundle of pending writes as stored (nil
  when it has none; the client splits it). bases is a flat list of blob field, blob value: every base
  the returned delta blobs need (include/checkpointRefs.lua), each once.

  Errors: none (a key of another Redis type fails with WRONGTYPE, reported as CorruptCheckpointError).
]]
-- @include checkpointRefs
-- @include pendingWrites

local checkpoints, blobs = KEYS[1], KEYS[2]
local byNamespace, byId = KEYS[3], KEYS[4]
local index, max, min = ARGV[1], ARGV[2], ARGV[3]
local limit, ttlMs = tonumber(ARGV[4]), tonumber(ARGV[5])
local held = {}
for i = 6, #ARGV - 1, 2 do
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

local members
if index == "ns" then
  members = redis.call("ZRANGE", byNamespace, max, min, "BYLEX", "REV", "LIMIT", 0, limit)
else
  members = redis.call("ZRANGE", byId, max, min, "BYLEX", "REV", "LIMIT", 0, limit)
end

local entries = {}
local bases, seenBases = {}, {}
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
    local blobFields = checkpointBlobFields(ns, refsOf(record))
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
    entries[#entries + 1] = { field, record, blobValues, pendingWritesBundle(field) }
  end
end

if ttlMs > 0 and #members > 0 then
  for i = 1, #KEYS do
    redis.call("PEXPIRE", KEYS[i], ttlMs)
  end
end
return { redis.call("ZCARD", byId), entries, bases }

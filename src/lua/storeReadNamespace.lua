--[[
storeReadNamespace: reads one namespace for search, or only counts its live items (listNamespaces). Search reads
the live items in insertion order, optionally with their vectors: all of them, or only those the filter indexes
select (the smallest index range first, the others checked against it), and optionally only a window of them
(skip, take), so a page costs what it returns. Expired items are removed on the way (bounded; the client also drops
any expired record it still receives, using the server time returned here). A namespace found with no live item is
retired: dropped from the registry inline on a standalone server; on Redis Cluster marked retired up to the
registration the client read, so the client can drop that registration (storeUnregister) without racing a writer.

KEYS[1] items    HASH item key -> record
KEYS[2] order    ZSET item key -> insertion sequence
KEYS[3] expiry   ZSET item key -> expiry time (ms since epoch)
KEYS[4] vectors  HASH item key -> float32 vectors
KEYS[5] state    HASH epoch, retired
standalone only:
KEYS[6] names    ZSET registry members (the namespace's registry bucket)
KEYS[7] seq      HASH member -> registration sequence (same bucket)

ARGV[1] mode: "count", "items" or "vectors" (items and their vectors)
ARGV[2] namespace member
ARGV[3] registration sequence the client read from the registry (cluster)
ARGV[4] purge limit (expired items removed by this call at most)
ARGV[5] grace in ms before the bookkeeping of an empty namespace expires
ARGV[6] skip: selected live items passed over before the first one returned (item modes)
ARGV[7] take: at most this many items returned, "" for all (item modes)
ARGV[8] index conditions, "" for none: "i,min,max" joined by ";", i the position of a filter index key (from 1),
        min and max ZRANGEBYSCORE bounds ("5", "(5", "-inf", "+inf"); an item is selected when its score in every
        named index lies in the range

Filter indexes (optional, see include storeFieldIndexes): the namespace's index ZSETs as the last keys, their count
as the last argument (expired items leave them too).

Result: {nowMs, liveCount, orderedKeys, itemsFlat, vectorsFlat, selectedCount}; the last four only in the item
modes and when liveCount > 0. orderedKeys are the returned items in insertion order, itemsFlat and vectorsFlat
flat {key, bytes, ...} pairs, selectedCount the live items selected before skip and take applied.

Errors: none.
]]
-- @include storeFieldIndexes
-- @include serverTimeMs
-- @include int
local itemsKey, orderKey, expiryKey, vectorsKey, stateKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local standalone = #KEYS >= 7
local namesKey, seqKey = KEYS[6], KEYS[7]
local mode, member, readSeq, purgeLimit, graceMs =
  ARGV[1], ARGV[2], tonumber(ARGV[3]) or 0, tonumber(ARGV[4]), tonumber(ARGV[5])
local skip, take, conditionsArg = tonumber(ARGV[6]) or 0, tonumber(ARGV[7] or ""), ARGV[8] or ""

local now = serverTimeMs()

local dead = redis.call("ZRANGEBYSCORE", expiryKey, "-inf", now, "LIMIT", 0, purgeLimit)
for _, key in ipairs(dead) do
  redis.call("HDEL", itemsKey, key)
  redis.call("ZREM", orderKey, key)
  redis.call("ZREM", expiryKey, key)
  redis.call("HDEL", vectorsKey, key)
  unindexItem(key)
end

local live = redis.call("ZCARD", orderKey) - redis.call("ZCOUNT", expiryKey, "-inf", now)
if live <= 0 then
  local keys = { itemsKey, orderKey, expiryKey, vectorsKey }
  for _, key in ipairs(FIELD_INDEX_KEYS) do keys[#keys + 1] = key end
  redis.call("DEL", unpack(keys))
  if standalone then
    redis.call("ZREM", namesKey, member)
    redis.call("HDEL", seqKey, member)
  else
    local retired = tonumber(redis.call("HGET", stateKey, "retired")) or 0
    local epoch = tonumber(redis.call("HGET", stateKey, "epoch")) or 0
    local mark = math.max(retired, epoch, readSeq)
    if mark > retired then redis.call("HSET", stateKey, "retired", int(mark)) end
    redis.call("PEXPIRE", stateKey, graceMs)
  end
  return { now, 0 }
end

if mode == "count" then return { now, live } end

local CHUNK = 500

-- ZMSCORE of many members, in chunks (unpack has a limit): scores (false when absent), in member order.
local function scoresOf(key, members)
  local out = {}
  for i = 1, #members, CHUNK do
    local chunk = {}
    for j = i, math.min(i + CHUNK - 1, #members) do chunk[#chunk + 1] = members[j] end
    local scores = redis.call("ZMSCORE", key, unpack(chunk))
    for j = 1, #chunk do out[#out + 1] = scores[j] end
  end
  return out
end

-- The records (and in "vectors" mode the vectors) of keys, as flat {key, bytes, ...} pairs.
local function fetch(keys)
  local itemsFlat, vectorsFlat = {}, {}
  for i = 1, #keys, CHUNK do
    local chunk = {}
    for j = i, math.min(i + CHUNK - 1, #keys) do chunk[#chunk + 1] = keys[j] end
    local records = redis.call("HMGET", itemsKey, unpack(chunk))
    local vectors = {}
    if mode == "vectors" then vectors = redis.call("HMGET", vectorsKey, unpack(chunk)) end
    for j = 1, #chunk do
      if records[j] then
        itemsFlat[#itemsFlat + 1] = chunk[j]
        itemsFlat[#itemsFlat + 1] = records[j]
      end
      if vectors[j] then
        vectorsFlat[#vectorsFlat + 1] = chunk[j]
        vectorsFlat[#vectorsFlat + 1] = vectors[j]
      end
    end
  end
  return itemsFlat, vectorsFlat
end

local function parseScore(text)
  if text == "+inf" or text == "inf" then return math.huge end
  if text == "-inf" then return -math.huge end
  return tonumber(text)
end

local function parseBound(text)
  local exclusive = string.sub(text, 1, 1) == "("
  if exclusive then text = string.sub(text, 2) end
  return parseScore(text), exclusive
end

-- The items selected, in insertion order (before skip and take).
local selected
if conditionsArg == "" then
  if redis.call("ZCOUNT", expiryKey, "-inf", now) == 0 then
    -- Nothing expired left: the order index is the live list, and the window is one range of it.
    local stop = -1
    if take then stop = skip + take - 1 end
    local keys = {}
    if take ~= 0 then keys = redis.call("ZRANGE", orderKey, skip, stop) end
    local itemsFlat, vectorsFlat = fetch(keys)
    return { now, live, keys, itemsFlat, vectorsFlat, live }
  end
  selected = redis.call("ZRANGE", orderKey, 0, -1)
else
  -- Smallest index range first; every other condition is checked on its candidates by score.
  local conditions = {}
  for spec in string.gmatch(conditionsArg, "[^;]+") do
    local i, min, max = string.match(spec, "^(%d+),([^,]+),([^,]+)$")
    local key = FIELD_INDEX_KEYS[tonumber(i)]
    local minValue, minExclusive = parseBound(min)
    local maxValue, maxExclusive = parseBound(max)
    conditions[#conditions + 1] = {
      key = key, min = min, max = max, count = redis.call("ZCOUNT", key, min, max),
      minValue = minValue, minExclusive = minExclusive, maxValue = maxValue, maxExclusive = maxExclusive,
    }
  end
  table.sort(conditions, function(a, b) return a.count < b.count end)
  local first = conditions[1]
  selected = {}
  if first.count > 0 then selected = redis.call("ZRANGEBYSCORE", first.key, first.min, first.max) end
  for c = 2, #conditions do
    if #selected == 0 then break end
    local cond = conditions[c]
    local scores = scoresOf(cond.key, selected)
    local kept = {}
    for j, member in ipairs(selected) do
      local score = scores[j] and parseScore(scores[j])
      if score
        and (score > cond.minValue or (score == cond.minValue and not cond.minExclusive))
        and (score < cond.maxValue or (score == cond.maxValue and not cond.maxExclusive)) then
        kept[#kept + 1] = member
      end
    end
    selected = kept
  end
  -- Insertion order (the index entries of an item no longer in the order index are skipped).
  local seqs = scoresOf(orderKey, selected)
  local ordered = {}
  for j, member in ipairs(selected) do
    if seqs[j] then ordered[#ordered + 1] = { member, tonumber(seqs[j]) } end
  end
  table.sort(ordered, function(a, b) return a[2] < b[2] end)
  selected = {}
  for j, entry in ipairs(ordered) do selected[j] = entry[1] end
end

-- Drop expired items, then apply the window.
local expiries = scoresOf(expiryKey, selected)
local liveSelected = {}
for j, member in ipairs(selected) do
  if not expiries[j] or tonumber(expiries[j]) > now then liveSelected[#liveSelected + 1] = member end
end
local keys = {}
local last = #liveSelected
if take then last = math.min(last, skip + take) end
for j = skip + 1, last do keys[#keys + 1] = liveSelected[j] end

local itemsFlat, vectorsFlat = fetch(keys)
return { now, live, keys, itemsFlat, vectorsFlat, #liveSelected }

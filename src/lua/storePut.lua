--[[
storePut: writes or deletes one store item together with everything that must change with it, atomically:
the item record, its namespace's order/expiry/vector indexes, a history entry (bounded), the fence high-water
mark, the namespace registration (inline on a standalone server; on Redis Cluster the registry lives in another
slot, so the script asks the client to register first and then runs again with the epoch it got) and the native
expiry of the namespace keys. Checks (fence, compare-and-set) run before anything is written.

KEYS[1]  items       HASH item key -> record "version:createdMs:updatedMs:expireAtMs:ttlMs:writer\n" .. value
KEYS[2]  order       ZSET item key -> insertion sequence
KEYS[3]  expiry      ZSET item key -> expiry time (ms since epoch)
KEYS[4]  vectors     HASH item key -> float32 vectors, concatenated
KEYS[5]  state       HASH epoch, retired (cluster registration bookkeeping)
KEYS[6]  history     ZSET version -> "version:op:atMs:writer\n" .. JSON
KEYS[7]  fenceMarks  HASH fence lock key -> highest token written with; field "" -> the results of the item's
                     last 4 writes, "writeId,version,createdMs,updatedMs,retiredEpoch" joined by "|" (newest first).
                     Outlives an item with a TTL (versionMemoryExpireAt): a re-created item continues its versions
standalone only (their presence selects inline registration):
KEYS[8]  fenceCounter STRING newest fencing token issued for ARGV[8] (KEYS[1] again when the write is not fenced)
KEYS[9]  names       ZSET namespace members of the namespace's registry bucket (scores 0)
KEYS[10] seq         HASH member -> registration sequence (same bucket)
KEYS[11] clock       STRING registration counter of the server (one for every bucket)

ARGV[1]  item key (field name in items/order/expiry/vectors)
ARGV[2]  "put" or "delete"
ARGV[3]  the value (put): JSON, or its compressed and/or sealed bytes (src/store/value-cipher.ts)
ARGV[4]  vector bytes, "" for none (a put replaces the item's vectors)
ARGV[5]  TTL in ms, "" for no expiry
ARGV[6]  writer, URI-encoded ("" when unknown)
ARGV[7]  expected version: "" unconditional, "0" must not exist, n must be at version n
ARGV[8]  fence lock key, "" when not fenced
ARGV[9]  fence token (integer)
ARGV[10] history limit (entries kept per item, >= 1)
ARGV[11] namespace member (registry)
ARGV[12] registration epoch from the registry ("" when none; cluster only)
ARGV[13] purge limit: expired items of this namespace removed on the way (bounded)
ARGV[14] grace in ms before the bookkeeping of an empty namespace expires
ARGV[15] write id (hex, random per write; "" for none): a write that already ran with this id is not run again,
         its first result is returned. ioredis sends a command again when the connection dropped before its reply
         came, so without this a put would add a second version and a compare-and-set would conflict with itself.
ARGV[16] filter index scores of the value (put), one per filter index key, joined by "," ("" = not in that index)

Filter indexes (optional, see include storeFieldIndexes): the namespace's index ZSETs as the last keys, their count
as the last argument. A put sets the item's scores, a delete or an expiry removes them.

Results:
  {1, version, createdMs, updatedMs, retiredEpoch}  written; version 0 when a delete found nothing. retiredEpoch > 0
                                                    (cluster) asks the client to unregister the now empty namespace
  {2}             cluster: the namespace is not registered; register it and run again with ARGV[12]
  {-1, actual}    version conflict; actual 0 = the item does not exist
  {-2, newest}    fenced: the token is older than the newest issued (standalone) or than one already written
  {-3}            the stored record cannot be parsed
  {-4}            standalone: no token has been issued for the fence's lock key (no counter under KEYS[8])
  {-5, newest}    standalone: the token is newer than the newest issued

Errors: (mapped in src/lua/catalogue.ts) -1 VersionConflictError, -2 FencedWriteError, -3 CorruptDataError,
-4 UnknownFenceLockError, -5 FenceTokenNotIssuedError.

Audit (optional, see include auditOutbox): events store.put / store.delete (field version) when the item changed,
store.fenced (field newest) when the fence check refused the write.
]]
-- @include auditOutbox
-- @include storeFieldIndexes
-- @include serverTimeMs
-- @include int
-- @include syncNamespaceExpiry
-- @include versionMemory
local itemsKey, orderKey, expiryKey, vectorsKey, stateKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local historyKey, fenceMarksKey = KEYS[6], KEYS[7]
local standalone = #KEYS >= 11
local fenceCounterKey, namesKey, seqKey, clockKey = KEYS[8], KEYS[9], KEYS[10], KEYS[11]

local itemKey, op, json, vectorBytes, ttlArg, writer = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local expected, fenceLock, fenceToken = ARGV[7], ARGV[8], tonumber(ARGV[9])
local historyLimit, member, confirmArg = tonumber(ARGV[10]), ARGV[11], ARGV[12]
local purgeLimit, graceMs = tonumber(ARGV[13]), tonumber(ARGV[14])
local writeId = ARGV[15] or ""
local fieldScores = ARGV[16] or ""

-- The same write again (its reply was lost and the client resent it): answer as the first time, write nothing.
local RECENT_WRITES = 4
local recentWrites = {}
local marks = redis.call("HGET", fenceMarksKey, "") or ""
if writeId ~= "" then
  for entry in string.gmatch(marks, "[^|]+") do
    local id, a, b, c, d = string.match(entry, "^(%x+),(%d+),(%d+),(%d+),(%d+)$")
    if id == writeId then return { 1, tonumber(a), tonumber(b), tonumber(c), tonumber(d) } end
    if id and #recentWrites < RECENT_WRITES - 1 then recentWrites[#recentWrites + 1] = entry end
  end
end

local now = serverTimeMs()

local function parseHeader(record)
  local nl = string.find(record, "\n", 1, true)
  if not nl then return nil end
  local version, created, _, expireAt, ttl = string.match(string.sub(record, 1, nl - 1), "^(%d+):(%d+):(%d+):(%d*):(%d*):")
  if not version then return nil end
  return tonumber(version), created, tonumber(expireAt), tonumber(ttl)
end

local function removeItem(key)
  redis.call("HDEL", itemsKey, key)
  redis.call("ZREM", orderKey, key)
  redis.call("ZREM", expiryKey, key)
  redis.call("HDEL", vectorsKey, key)
  unindexItem(key)
end

-- Bounded clean-up of expired items of this namespace (their history keys expire natively).
local dead = redis.call("ZRANGEBYSCORE", expiryKey, "-inf", now, "LIMIT", 0, purgeLimit)
for _, key in ipairs(dead) do removeItem(key) end

local function retire()
  if standalone then
    redis.call("ZREM", namesKey, member)
    redis.call("HDEL", seqKey, member)
    return 0
  end
  local epoch = tonumber(redis.call("HGET", stateKey, "epoch")) or 0
  local retired = tonumber(redis.call("HGET", stateKey, "retired")) or 0
  if epoch > retired then redis.call("HSET", stateKey, "retired", int(epoch)) end
  return epoch
end

-- Fencing: on a standalone server, accept exactly the newest token issued for the lock (older: fenced off; newer:
-- never issued; no counter: the lock is unknown under this prefix). Everywhere, reject a token older than one
-- already written here.
if fenceLock ~= "" then
  if standalone then
    local counter = redis.call("GET", fenceCounterKey)
    if not counter then return { -4 } end
    local newest = tonumber(counter) or 0
    if fenceToken < newest then
      auditEvent("store.fenced", "newest", int(newest))
      return { -2, newest }
    end
    if fenceToken > newest then return { -5, newest } end
  end
  local mark = tonumber(redis.call("HGET", fenceMarksKey, fenceLock)) or 0
  if fenceToken < mark then
    auditEvent("store.fenced", "newest", int(mark))
    return { -2, mark }
  end
end

local record = redis.call("HGET", itemsKey, itemKey)
local currentVersion, created, currentTtl = 0, nil, nil
if record then
  local expireAt
  currentVersion, created, expireAt, currentTtl = parseHeader(record)
  if not currentVersion then return { -3 } end
  if expireAt and expireAt <= now then
    removeItem(itemKey)
    record, currentVersion, created = nil, 0, nil
  end
end

if expected ~= "" and tonumber(expected) ~= currentVersion then return { -1, currentVersion } end

local function lastVersion()
  if currentVersion > 0 then return currentVersion end
  local top = redis.call("ZRANGE", historyKey, -1, -1, "WITHSCORES")
  -- An item that expired took its history with it; its newest remembered write outlives it (versionMemory).
  local remembered = tonumber(string.match(marks, "^%x+,(%d+),")) or 0
  return math.max(tonumber(top[2]) or 0, remembered)
end

-- The marks of an item expire after it (versionMemoryExpireAt), never with it; without a TTL they do not expire.
local function expireMarks(expireAt, ttl)
  if expireAt then
    redis.call("PEXPIREAT", fenceMarksKey, int(versionMemoryExpireAt(expireAt, ttl)))
  else
    redis.call("PERSIST", fenceMarksKey)
  end
end

-- Records the result of this write under its id (with the item's expiry), then returns it.
local function remember(result, expireAt, ttl)
  if writeId == "" then return result end
  local entry = writeId .. "," .. int(result[2]) .. "," .. int(result[3]) .. "," .. int(result[4]) .. "," .. int(result[5])
  table.insert(recentWrites, 1, entry)
  redis.call("HSET", fenceMarksKey, "", table.concat(recentWrites, "|"))
  expireMarks(expireAt, ttl)
  return result
end

local function appendHistory(version, kind, body, expireAt, ttl)
  redis.call("ZADD", historyKey, version, int(version) .. ":" .. kind .. ":" .. int(now) .. ":" .. writer .. "\n" .. body)
  redis.call("ZREMRANGEBYRANK", historyKey, 0, -(historyLimit + 1))
  if fenceLock ~= "" then
    local mark = tonumber(redis.call("HGET", fenceMarksKey, fenceLock)) or 0
    if fenceToken > mark then redis.call("HSET", fenceMarksKey, fenceLock, int(fenceToken)) end
  end
  if expireAt then redis.call("PEXPIREAT", historyKey, int(expireAt)) else redis.call("PERSIST", historyKey) end
  expireMarks(expireAt, ttl)
end

if op == "delete" then
  if not record then
    syncNamespaceExpiry(itemsKey, orderKey, expiryKey, vectorsKey, stateKey, graceMs, true, FIELD_INDEX_KEYS)
    return { 1, 0, 0, 0, 0 }
  end
  local version = lastVersion() + 1
  local expireAt = tonumber(redis.call("ZSCORE", expiryKey, itemKey))
  removeItem(itemKey)
  appendHistory(version, "delete", "", expireAt, currentTtl)
  local retiredEpoch = 0
  if redis.call("ZCARD", orderKey) == 0 then retiredEpoch = retire() end
  syncNamespaceExpiry(itemsKey, orderKey, expiryKey, vectorsKey, stateKey, graceMs, true, FIELD_INDEX_KEYS)
  auditEvent("store.delete", "version", int(version))
  return remember({ 1, version, 0, now, retiredEpoch }, expireAt, currentTtl)
end

-- A put into an empty namespace registers it first.
local empty = redis.call("ZCARD", orderKey) == 0
if standalone then
  if empty then
    local seq = redis.call("INCR", clockKey)
    redis.call("HSET", seqKey, member, seq)
    redis.call("ZADD", namesKey, 0, member)
  end
else
  local confirm = tonumber(confirmArg)
  local retired = tonumber(redis.call("HGET", stateKey, "retired")) or 0
  if confirm and confirm > retired then
    local epoch = tonumber(redis.call("HGET", stateKey, "epoch")) or 0
    if confirm > epoch then redis.call("HSET", stateKey, "epoch", int(confirm)) end
  elseif empty then
    return { 2 }
  end
end

local version = lastVersion() + 1
local ttl = tonumber(ttlArg)
local expireAt = nil
if ttl then expireAt = now + ttl end
created = created or int(now)
local header = int(version) .. ":" .. created .. ":" .. int(now) .. ":" .. (expireAt and int(expireAt) or "") .. ":"
  .. (ttl and int(ttl) or "") .. ":" .. writer .. "\n"
redis.call("HSET", itemsKey, itemKey, header .. json)
if not record then
  local top = redis.call("ZRANGE", orderKey, -1, -1, "WITHSCORES")
  redis.call("ZADD", orderKey, (tonumber(top[2]) or 0) + 1, itemKey)
end
if expireAt then redis.call("ZADD", expiryKey, expireAt, itemKey) else redis.call("ZREM", expiryKey, itemKey) end
if vectorBytes ~= "" then
  redis.call("HSET", vectorsKey, itemKey, vectorBytes)
else
  redis.call("HDEL", vectorsKey, itemKey)
end
indexItem(itemKey, fieldScores)
appendHistory(version, "put", json, expireAt, ttl)
syncNamespaceExpiry(itemsKey, orderKey, expiryKey, vectorsKey, stateKey, graceMs, true, FIELD_INDEX_KEYS)
auditEvent("store.put", "version", int(version))
return remember({ 1, version, tonumber(created), now, 0 }, expireAt, ttl)

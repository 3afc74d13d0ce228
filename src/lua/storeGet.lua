--[[
storeGet: reads one store item. An item whose expiry time has passed is removed on the way (with its index
entries) and reported as missing; with refresh on, reading an item that has a TTL pushes its expiry out by its TTL.

KEYS[1] items       HASH item key -> record "version:createdMs:updatedMs:expireAtMs:ttlMs:writer\n" .. JSON
KEYS[2] order       ZSET item key -> insertion sequence
KEYS[3] expiry      ZSET item key -> expiry time (ms since epoch)
KEYS[4] vectors     HASH item key -> float32 vectors
KEYS[5] state       HASH namespace bookkeeping (its expiry follows the namespace's)
KEYS[6] history     ZSET history of this item (expires with the item)
KEYS[7] fenceMarks  HASH fence marks of this item (expire after the item: versionMemoryExpireAt)

ARGV[1] item key
ARGV[2] "1" to refresh the TTL of the item read, "0" not to
ARGV[3] grace in ms before the bookkeeping of an empty namespace expires

Filter indexes (optional, see include storeFieldIndexes): the namespace's index ZSETs as the last keys, their count
as the last argument (an expired item leaves them too).

Result: {nowMs, record} or {nowMs} when the item does not exist (or has expired).

Errors: none.
]]
-- @include storeFieldIndexes
-- @include serverTimeMs
-- @include int
-- @include syncNamespaceExpiry
-- @include versionMemory
local itemsKey, orderKey, expiryKey, vectorsKey, stateKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local historyKey, fenceMarksKey = KEYS[6], KEYS[7]
local itemKey, refresh, graceMs = ARGV[1], ARGV[2] == "1", tonumber(ARGV[3])

local now = serverTimeMs()


local record = redis.call("HGET", itemsKey, itemKey)
if not record then return { now } end

local nl = string.find(record, "\n", 1, true)
if not nl then return { now, record } end -- unreadable: the client reports it as corrupt
local version, created, updated, expireAt, ttl, writer =
  string.match(string.sub(record, 1, nl - 1), "^(%d+):(%d+):(%d+):(%d*):(%d*):(.*)$")
if not version then return { now, record } end

if expireAt ~= "" and tonumber(expireAt) <= now then
  redis.call("HDEL", itemsKey, itemKey)
  redis.call("ZREM", orderKey, itemKey)
  redis.call("ZREM", expiryKey, itemKey)
  redis.call("HDEL", vectorsKey, itemKey)
  unindexItem(itemKey)
  syncNamespaceExpiry(itemsKey, orderKey, expiryKey, vectorsKey, stateKey, graceMs, false, FIELD_INDEX_KEYS)
  return { now }
end

if refresh and ttl ~= "" then
  local newExpireAt = now + tonumber(ttl)
  record = version .. ":" .. created .. ":" .. updated .. ":" .. int(newExpireAt) .. ":" .. ttl .. ":" .. writer
    .. string.sub(record, nl)
  redis.call("HSET", itemsKey, itemKey, record)
  redis.call("ZADD", expiryKey, newExpireAt, itemKey)
  redis.call("PEXPIREAT", historyKey, int(newExpireAt))
  redis.call("PEXPIREAT", fenceMarksKey, int(versionMemoryExpireAt(newExpireAt, ttl)))
  syncNamespaceExpiry(itemsKey, orderKey, expiryKey, vectorsKey, stateKey, graceMs, false, FIELD_INDEX_KEYS)
end
return { now, record }

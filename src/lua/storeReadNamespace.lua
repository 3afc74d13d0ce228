--[[
storeReadNamespace: reads one namespace for search (its items, in insertion order, optionally their vectors) or
only counts its live items (listNamespaces). Expired items are removed on the way (bounded; the client also drops
any expired record it still receives, using the server time returned here). A namespace found with no live item
is retired: dropped from the registry inline on a standalone server; on Redis Cluster marked retired up to the
registration the client read, so the client can drop that registration (storeUnregister) without racing a writer.

KEYS[1] items    HASH item key -> record
KEYS[2] order    ZSET item key -> insertion sequence
KEYS[3] expiry   ZSET item key -> expiry time (ms since epoch)
KEYS[4] vectors  HASH item key -> float32 vectors
KEYS[5] state    HASH epoch, retired
standalone only:
KEYS[6] names    ZSET registry members
KEYS[7] seq      HASH member -> registration sequence

ARGV[1] mode: "count", "items" or "vectors" (items and their vectors)
ARGV[2] namespace member
ARGV[3] registration sequence the client read from the registry (cluster)
ARGV[4] purge limit (expired items removed by this call at most)
ARGV[5] grace in ms before the bookkeeping of an empty namespace expires

Result: {nowMs, liveCount, orderedKeys, itemsFlat, vectorsFlat}; the last three only in the item modes and when
liveCount > 0 (itemsFlat and vectorsFlat are HGETALL replies).

Errors: none.
]]
-- @include serverTimeMs
-- @include int
local itemsKey, orderKey, expiryKey, vectorsKey, stateKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local standalone = #KEYS >= 7
local namesKey, seqKey = KEYS[6], KEYS[7]
local mode, member, readSeq, purgeLimit, graceMs =
  ARGV[1], ARGV[2], tonumber(ARGV[3]) or 0, tonumber(ARGV[4]), tonumber(ARGV[5])

local now = serverTimeMs()

local dead = redis.call("ZRANGEBYSCORE", expiryKey, "-inf", now, "LIMIT", 0, purgeLimit)
for _, key in ipairs(dead) do
  redis.call("HDEL", itemsKey, key)
  redis.call("ZREM", orderKey, key)
  redis.call("ZREM", expiryKey, key)
  redis.call("HDEL", vectorsKey, key)
end

local live = redis.call("ZCARD", orderKey) - redis.call("ZCOUNT", expiryKey, "-inf", now)
if live <= 0 then
  redis.call("DEL", itemsKey, orderKey, expiryKey, vectorsKey)
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
local keys = redis.call("ZRANGE", orderKey, 0, -1)
local items = redis.call("HGETALL", itemsKey)
local vectors = {}
if mode == "vectors" then vectors = redis.call("HGETALL", vectorsKey) end
return { now, live, keys, items, vectors }

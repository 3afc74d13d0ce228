--[[
storeRefresh: pushes out the expiry of items that a search returned (TTL refresh on read), for the items of one
namespace that have a TTL and have not expired yet.

KEYS[1] items    HASH item key -> record "version:createdMs:updatedMs:expireAtMs:ttlMs:writer\n" .. JSON
KEYS[2] order    ZSET item key -> insertion sequence
KEYS[3] expiry   ZSET item key -> expiry time (ms since epoch)
KEYS[4] vectors  HASH item key -> float32 vectors
KEYS[5] state    HASH namespace bookkeeping
KEYS[6..]        per item, in ARGV order: its history key, then its fence marks key

ARGV[1] grace in ms before the bookkeeping of an empty namespace expires
ARGV[2..] item keys

Filter indexes (optional, see include storeFieldIndexes): the namespace's index ZSETs as the last keys, their count
as the last argument (they expire with the namespace's other keys).

Result: number of items whose expiry moved.

Errors: none.
]]
-- @include storeFieldIndexes
-- @include serverTimeMs
-- @include int
-- @include versionMemory
local itemsKey, orderKey, expiryKey, vectorsKey, stateKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local graceMs = tonumber(ARGV[1])

local now = serverTimeMs()

local moved = 0
for i = 2, #ARGV do
  local itemKey = ARGV[i]
  local record = redis.call("HGET", itemsKey, itemKey)
  local nl = record and string.find(record, "\n", 1, true)
  if nl then
    local version, created, updated, expireAt, ttl, writer =
      string.match(string.sub(record, 1, nl - 1), "^(%d+):(%d+):(%d+):(%d*):(%d*):(.*)$")
    if version and ttl ~= "" and expireAt ~= "" and tonumber(expireAt) > now then
      local newExpireAt = now + tonumber(ttl)
      redis.call("HSET", itemsKey, itemKey, version .. ":" .. created .. ":" .. updated .. ":" .. int(newExpireAt)
        .. ":" .. ttl .. ":" .. writer .. string.sub(record, nl))
      redis.call("ZADD", expiryKey, newExpireAt, itemKey)
      local base = 6 + (i - 2) * 2
      redis.call("PEXPIREAT", KEYS[base], int(newExpireAt))
      redis.call("PEXPIREAT", KEYS[base + 1], int(versionMemoryExpireAt(newExpireAt, ttl)))
      moved = moved + 1
    end
  end
end

if moved > 0 and redis.call("ZCARD", expiryKey) == redis.call("ZCARD", orderKey) then
  local last = tonumber(redis.call("ZRANGE", expiryKey, -1, -1, "WITHSCORES")[2])
  local keys = { itemsKey, orderKey, expiryKey, vectorsKey }
  for _, key in ipairs(FIELD_INDEX_KEYS) do keys[#keys + 1] = key end
  for _, key in ipairs(keys) do redis.call("PEXPIREAT", key, int(last)) end
  redis.call("PEXPIREAT", stateKey, int(last + graceMs))
end
return moved

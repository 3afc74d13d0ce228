--[[
cacheSet: writes entries of one cache bucket, each with its own TTL, then removes a bounded number of expired
entries and sets the bucket keys' own expiry: the latest entry expiry when every entry has a TTL, none otherwise.

KEYS[1] entries  HASH cache key -> record "<expireAtMs or empty>:" .. payload
KEYS[2] expiry   ZSET cache key -> expiry time (ms since epoch, server clock), only entries with a TTL

ARGV[1] prune limit: expired entries this call removes at most
ARGV[2..] triples: cache key, ttlMs ("" = no expiry, "0" = drop the entry), payload

Result: the number of entries in the bucket after the call.

Errors: none.
]]
-- @include serverTimeMs
-- @include int
local entriesKey, expiryKey = KEYS[1], KEYS[2]
local pruneLimit = tonumber(ARGV[1])
local now = serverTimeMs()

for i = 2, #ARGV, 3 do
  local field, ttl, payload = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if ttl == "" then
    redis.call("HSET", entriesKey, field, ":" .. payload)
    redis.call("ZREM", expiryKey, field)
  elseif tonumber(ttl) <= 0 then
    redis.call("HDEL", entriesKey, field)
    redis.call("ZREM", expiryKey, field)
  else
    local expireAt = now + tonumber(ttl)
    redis.call("HSET", entriesKey, field, int(expireAt) .. ":" .. payload)
    redis.call("ZADD", expiryKey, expireAt, field)
  end
end

local dead = redis.call("ZRANGEBYSCORE", expiryKey, "-inf", now, "LIMIT", 0, pruneLimit)
for i = 1, #dead, 500 do
  local chunk = {}
  for j = i, math.min(i + 499, #dead) do chunk[#chunk + 1] = dead[j] end
  redis.call("HDEL", entriesKey, unpack(chunk))
  redis.call("ZREM", expiryKey, unpack(chunk))
end

local count = redis.call("HLEN", entriesKey)
if count == 0 then
  redis.call("DEL", entriesKey, expiryKey)
elseif redis.call("ZCARD", expiryKey) == count then
  local last = int(tonumber(redis.call("ZRANGE", expiryKey, -1, -1, "WITHSCORES")[2]))
  redis.call("PEXPIREAT", entriesKey, last)
  redis.call("PEXPIREAT", expiryKey, last)
else
  redis.call("PERSIST", entriesKey)
  redis.call("PERSIST", expiryKey)
end
return count

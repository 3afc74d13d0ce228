--[[
storeReindex: sets the filter index scores of items written before their fields were declared (one page of a
bounded reindex walk). An item is indexed only if it is still at the version the client read and computed the
scores from; a newer write has indexed it itself.

KEYS[1] items    HASH item key -> record "version:createdMs:updatedMs:expireAtMs:ttlMs:writer\n" .. JSON
then the namespace's filter index ZSETs (include storeFieldIndexes), their count as the last argument

ARGV[1], ARGV[2], ARGV[3], ...: triples of item key, version read, scores (one per index key, joined by ",")

Result: number of items indexed.

Errors: none.
]]
-- @include storeFieldIndexes
local itemsKey = KEYS[1]

local indexed = 0
for i = 1, #ARGV - 2, 3 do
  local itemKey, version, scores = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local record = redis.call("HGET", itemsKey, itemKey)
  if record and string.match(record, "^(%d+):") == version then
    indexItem(itemKey, scores)
    indexed = indexed + 1
  end
end
-- The index keys expire with the namespace's keys (which carry an expiry when every item has a TTL).
local ttl = redis.call("PTTL", itemsKey)
if indexed > 0 and ttl > 0 then
  for _, key in ipairs(FIELD_INDEX_KEYS) do redis.call("PEXPIRE", key, ttl) end
end
return indexed

-- storeFieldIndexes: the filter indexes of one store namespace (the store's `filterIndex` option), for store
-- scripts. A call passes the namespace's index keys (one ZSET per declared field: item key -> score) as its last
-- keys, just before the audit outbox, and their count as its last argument, just before the audit context; this
-- include takes both off (include it after auditOutbox and before the script reads KEYS or ARGV), so the script sees
-- the keys and arguments it gets without indexes. FIELD_INDEX_KEYS lists them in declaration order.
local FIELD_INDEX_KEYS = {}
do
  local count = tonumber(ARGV[#ARGV]) or 0
  ARGV[#ARGV] = nil
  for i = count, 1, -1 do
    FIELD_INDEX_KEYS[i] = KEYS[#KEYS]
    KEYS[#KEYS] = nil
  end
end

-- unindexItem(itemKey): drops an item from every filter index of its namespace.
local function unindexItem(itemKey)
  for _, key in ipairs(FIELD_INDEX_KEYS) do redis.call("ZREM", key, itemKey) end
end

-- indexItem(itemKey, scores): scores holds one score per index key, in order, joined by ","; "" leaves the item out
-- of that index (its value has no number, or no indexable type, for that field).
local function indexItem(itemKey, scores)
  local i = 0
  for score in string.gmatch(scores .. ",", "([^,]*),") do
    i = i + 1
    local key = FIELD_INDEX_KEYS[i]
    if key then
      if score == "" then redis.call("ZREM", key, itemKey) else redis.call("ZADD", key, score, itemKey) end
    end
  end
end

-- syncNamespaceExpiry(itemsKey, orderKey, expiryKey, vectorsKey, stateKey, graceMs, persistOtherwise, indexKeys):
-- keeps the native expiry of one store namespace's keys (and of its filter index keys, the list indexKeys) in step
-- with its items. An empty namespace is deleted (its state hash lingers graceMs); when every item has a TTL the keys
-- expire with the last of them; otherwise, with persistOtherwise, they are made persistent (a write that added an
-- item without a TTL). Store scripts include it.
local function syncNamespaceExpiry(itemsKey, orderKey, expiryKey, vectorsKey, stateKey, graceMs, persistOtherwise,
                                   indexKeys)
  local keys = { itemsKey, orderKey, expiryKey, vectorsKey }
  for _, key in ipairs(indexKeys or {}) do keys[#keys + 1] = key end
  local count = redis.call("ZCARD", orderKey)
  if count == 0 then
    redis.call("DEL", unpack(keys))
    redis.call("PEXPIRE", stateKey, graceMs)
    return
  end
  if redis.call("ZCARD", expiryKey) == count then
    local last = tonumber(redis.call("ZRANGE", expiryKey, -1, -1, "WITHSCORES")[2])
    for _, key in ipairs(keys) do
      redis.call("PEXPIREAT", key, string.format("%d", last))
    end
    redis.call("PEXPIREAT", stateKey, string.format("%d", last + graceMs))
  elseif persistOtherwise then
    keys[#keys + 1] = stateKey
    for _, key in ipairs(keys) do redis.call("PERSIST", key) end
  end
end

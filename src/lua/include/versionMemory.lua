-- versionMemoryExpireAt(expireAt, ttlMs): when the fence marks of an item with a TTL expire. Besides the fencing
-- high-water marks they remember the item's last writes and so its last version, which storePut continues from when
-- the item is created again after it expired: versions of a key never repeat while a reader may still hold one, so
-- a stale compare-and-set cannot succeed. They outlive the item by its TTL, at least VERSION_MEMORY_MIN_MS.
local VERSION_MEMORY_MIN_MS = 3600000
local function versionMemoryExpireAt(expireAt, ttlMs)
  return expireAt + math.max(tonumber(ttlMs) or 0, VERSION_MEMORY_MIN_MS)
end

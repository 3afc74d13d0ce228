--[[
cacheGet: reads entries of one cache bucket, leaving out those whose TTL has passed (by the server clock).

KEYS[1] entries  HASH cache key -> record "<expireAtMs or empty>:" .. payload

ARGV[1..] cache keys

Result: one reply per ARGV, in order: the payload (the record without its expiry header), or nil when the entry is
missing or expired. A record without the header is returned whole (the client names the key as corrupt).

Errors: none.
]]
-- @include serverTimeMs
local entriesKey = KEYS[1]
local now = serverTimeMs()

local records = redis.call("HMGET", entriesKey, unpack(ARGV))
local out = {}
for i = 1, #ARGV do
  local record = records[i]
  out[i] = false
  if record then
    local colon = string.find(record, ":", 1, true)
    if colon then
      local expireAt = tonumber(string.sub(record, 1, colon - 1))
      if expireAt == nil or expireAt > now then out[i] = string.sub(record, colon + 1) end
    else
      out[i] = record
    end
  end
end
return out

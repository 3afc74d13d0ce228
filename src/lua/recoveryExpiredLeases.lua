--[[
recoveryExpiredLeases: lists runs whose lease or claim expired, oldest expiry first. Reads only the index: the cost
grows with the number of expired entries returned, not with the number of threads.

KEYS[1] index     sorted set: run member -> lease expiry (Unix time, ms, server clock)
KEYS[2] holders   hash: run member -> "<token>:<kind>:<sinceMs>:<owner>"

ARGV[1] limit     most entries to return (positive integer)

Result:
  {nowMs, member1, expiresAtMs1, holder1, member2, ...}; holder is "" when missing

Errors: none.
]]
-- @include serverTimeMs
local index, holders = KEYS[1], KEYS[2]
local limit = tonumber(ARGV[1])

local now = serverTimeMs()

local entries = redis.call('ZRANGEBYSCORE', index, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)
local result = {now}
for i = 1, #entries, 2 do
  local member = entries[i]
  result[#result + 1] = member
  result[#result + 1] = tonumber(entries[i + 1])
  result[#result + 1] = redis.call('HGET', holders, member) or ''
end
return result

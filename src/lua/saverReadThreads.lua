--[[
  saverReadThreads: reads the registry records of some threads of one bucket, with their updated times and the
  server clock (so readers can leave out threads whose TTL has passed but that were not trimmed yet).

  KEYS[1] updated   ZSET  thread id -> server time (ms) of its last write
  KEYS[2] records   HASH  thread id -> record (include threadRecord)

  ARGV[1..]         thread ids

  Result: {nowMs, record1, updated1, record2, updated2, ...}; "" for a missing record or updated time.

  Errors: none.
]]
-- @include serverTimeMs
local updated, records = KEYS[1], KEYS[2]
local result = { serverTimeMs() }
for i = 1, #ARGV do
  result[#result + 1] = redis.call("HGET", records, ARGV[i]) or ""
  result[#result + 1] = redis.call("ZSCORE", updated, ARGV[i]) or ""
end
return result

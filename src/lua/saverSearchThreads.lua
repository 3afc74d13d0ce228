--[[
  saverSearchThreads: one bucket's part of a thread registry search: up to `limit` members of one index range,
  newest first, below an exclusive bound, each with its thread's record and updated time, so a page needs one
  round trip (one script per bucket, pipelined) instead of a range read and then a record read.

  KEYS[1] updated   ZSET  thread id -> server time (ms) of its last write
  KEYS[2] records   HASH  thread id -> record (include threadRecord)
  KEYS[3] index     ZSET  (scores 0) index members, ranged by lex

  ARGV[1] max       exclusive upper bound, as ZRANGE BYLEX takes it ("(" .. member)
  ARGV[2] min       inclusive lower bound ("[" .. range prefix)
  ARGV[3] limit     most members to return (positive integer)
  ARGV[4] prefixLength  length (bytes) of the range prefix: the member's thread id starts 17 bytes after it
                        (15 digits of creation time and a NUL)

  Result: {nowMs, member1, record1, updated1, member2, ...}; "" for a missing record or updated time.

  Errors: none.
]]
-- @include serverTimeMs
local updated, records, index = KEYS[1], KEYS[2], KEYS[3]
local prefixLength = tonumber(ARGV[4])
local members = redis.call("ZRANGE", index, ARGV[1], ARGV[2], "BYLEX", "REV", "LIMIT", 0, tonumber(ARGV[3]))
local result = { serverTimeMs() }
for _, member in ipairs(members) do
  local threadId = string.sub(member, prefixLength + 17)
  result[#result + 1] = member
  result[#result + 1] = redis.call("HGET", records, threadId) or ""
  result[#result + 1] = redis.call("ZSCORE", updated, threadId) or ""
end
return result

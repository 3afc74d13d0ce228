-- touchThreadIndex(threadIndex, threadId): records one thread's activity in a bucket of the cross-thread index
-- (ZSET thread id -> server time in ms). Scores only grow, so a reader that saw an older score can tell the thread
-- was written since. Threads idle past their TTL are dropped by saverRegisterThread, which also removes their
-- registry record. Returns the thread's new score. Included by saverTouchThread, saverPut, saverPutWrites and
-- saverRegisterThread.
-- @include serverTimeMs
local function touchThreadIndex(threadIndex, threadId)
  local nowMs = serverTimeMs()
  local previous = tonumber(redis.call("ZSCORE", threadIndex, threadId) or "-1")
  local score = math.max(nowMs, previous + 1)
  redis.call("ZADD", threadIndex, score, threadId)
  return score
end

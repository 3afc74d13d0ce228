-- touchThreadIndex(threadIndex, threadId, ttlMs, graceMs): records one thread's activity in the checkpointer's
-- cross-thread index (ZSET thread id -> server time in ms). Scores only grow, so a reader that saw an older score
-- can tell the thread was written since; entries idle longer than ttlMs + graceMs (threads whose keys have expired)
-- are dropped. Returns the thread's new score. Included by saverTouchThread, saverPut and saverPutWrites.
-- @include serverTimeMs
local function touchThreadIndex(threadIndex, threadId, ttlMs, graceMs)
  local nowMs = serverTimeMs()
  local previous = tonumber(redis.call("ZSCORE", threadIndex, threadId) or "-1")
  local score = math.max(nowMs, previous + 1)
  redis.call("ZADD", threadIndex, score, threadId)
  if ttlMs > 0 then
    redis.call("ZREMRANGEBYSCORE", threadIndex, "-inf", "(" .. (nowMs - ttlMs - graceMs))
  end
  return score
end

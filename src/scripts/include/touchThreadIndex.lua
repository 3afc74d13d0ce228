-- touchThreadIndex(threadIndex, threadId, ttlMs, graceMs): records one thread's activity in the checkpointer's
-- cross-thread index (ZSET thread id -> server time in ms). Scores only grow, so a reader that saw an older score
-- can tell the thread was written since; entries idle longer than ttlMs + graceMs (threads whose keys have expired)
-- are dropped. Returns the thread's new score. Included by saverTouchThread, saverPut and saverPutWrites.
local function touchThreadIndex(threadIndex, threadId, ttlMs, graceMs)
  local time = redis.call("TIME")
  local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  local previous = tonumber(redis.call("ZSCORE", threadIndex, threadId) or "-1")
  local score = math.max(nowMs, previous + 1)
  redis.call("ZADD", threadIndex, score, threadId)
  if ttlMs > 0 then
    redis.call("ZREMRANGEBYSCORE", threadIndex, "-inf", "(" .. (nowMs - ttlMs - graceMs))
  end
  return score
end

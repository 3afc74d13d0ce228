-- touchThreadIndex(threadIndex, threadId, tolerant): records one thread's activity in a bucket of the cross-thread
-- index (ZSET thread id -> server time in ms). Scores only grow, so a reader that saw an older score can tell the
-- thread was written since. Threads idle past their TTL are dropped by saverRegisterThread, which also removes their
-- registry record. Returns the thread's new score; with `tolerant`, an index key of another type is left alone and
-- nil returned instead of failing the script. Included by saverTouchThread, saverPut, saverPutWrites and
-- saverRegisterThread.
-- @include serverTimeMs
local function touchThreadIndex(threadIndex, threadId, tolerant)
  local nowMs = serverTimeMs()
  local previous
  if tolerant then
    previous = redis.pcall("ZSCORE", threadIndex, threadId)
    if type(previous) == "table" then
      return nil
    end
  else
    previous = redis.call("ZSCORE", threadIndex, threadId)
  end
  local score = math.max(nowMs, tonumber(previous or "-1") + 1)
  redis.call("ZADD", threadIndex, score, threadId)
  return score
end

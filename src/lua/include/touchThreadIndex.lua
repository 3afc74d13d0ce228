-- touchThreadIndex(threadIndex, threadId, tolerant): records one thread's activity in a bucket of the cross-thread
-- index (ZSET thread id -> server time in ms). Scores only grow, so a reader that saw an older score can tell the
-- thread was written since: the new score is the server time, or one past the stored score when that is not older
-- (a write in the same millisecond, a thread written faster than once a millisecond, a clock that went back).
-- Threads idle past their TTL are dropped by saverRegisterThread, which also removes their registry record. Returns
-- the thread's new score; with `tolerant`, an index key of another type is left alone and nil returned instead of
-- failing the script. Included by saverTouchThread, saverPut, saverPutWrites and saverRegisterThread.
-- One write when the stored score is older (ZADD GT CH counts the change), else that ZADD changes nothing and a
-- ZADD INCR adds one (ZINCRBY's effect through ZADD, the command the ACL rules grant): no read of the score first.
-- Arguments go as text: Redis 7.0 prints every Lua number argument with snprintf.
-- @include serverTimeMs
local function touchThreadIndex(threadIndex, threadId, tolerant)
  local nowMs = serverTimeMsText()
  local changed
  if tolerant then
    changed = redis.pcall("ZADD", threadIndex, "GT", "CH", nowMs, threadId)
    if type(changed) == "table" then
      return nil
    end
  else
    changed = redis.call("ZADD", threadIndex, "GT", "CH", nowMs, threadId)
  end
  if changed == 1 then
    return tonumber(nowMs)
  end
  return tonumber(redis.call("ZADD", threadIndex, "INCR", "1", threadId))
end

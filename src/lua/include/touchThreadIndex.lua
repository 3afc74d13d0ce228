-- touchThreadIndex(threadIndex, threadId, tolerant, byNamespace): records one thread's activity in a bucket of the
-- cross-thread index (ZSET thread id -> server time in ms). Scores never fall, and they grow with every write that
-- saverForgetThread's check depends on, so a reader that saw an older score can tell the thread was written since:
-- the new score is the server time, or one past the stored score when that is not older (a write in the same
-- millisecond, a thread written faster than once a millisecond, a clock that went back). A put passes its thread's
-- byNamespace: a stored score not older than the server time then already says the thread was written this recently,
-- and is raised by one only when the put's checkpoint is the thread's only one (the thread was empty before it, as
-- list() saw it when it asks saverForgetThread to drop the entry); that saves a write per put on a thread written
-- faster than once a millisecond.
-- Threads idle past their TTL are dropped by saverRegisterThread, which also removes their registry record. Returns
-- the thread's new score (nil when a put left a newer score as it was); with `tolerant`, an index key of another
-- type is left alone and nil returned instead of failing the script. Included by saverTouchThread, saverPut,
-- saverPutCompact, saverPutWrites and saverRegisterThread.
-- One write when the stored score is older (ZADD GT CH counts the change), else that ZADD changes nothing and a
-- ZADD INCR adds one (ZINCRBY's effect through ZADD, the command the ACL rules grant): no read of the score first.
-- Arguments go as text: Redis 7.0 prints every Lua number argument with snprintf.
-- @include serverTimeMs
local function touchThreadIndex(threadIndex, threadId, tolerant, byNamespace)
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
  if byNamespace then
    -- @include checkpointIndex
    if checkpointIndexCard(byNamespace) > 1 then
      return nil
    end
  end
  return tonumber(redis.call("ZADD", threadIndex, "INCR", "1", threadId))
end

-- finishThreadWrite(ttlText, threadIndex, threadId, byNamespace): the common end of saverPut, saverPutWrites and
-- saverImportThread. With a thread TTL (ttlText: the ttlMs argument as sent, "0" for none) refreshes the TTL of the
-- thread's keys KEYS[1..8], all but KEYS[4] (byId: earlier releases' index, which nothing reads any more; left to
-- expire), the TTL going as the text it arrived as (Redis 7.0 prints a Lua number argument with snprintf); and when
-- the index key was passed (standalone), records the thread's activity (byNamespace: a put's, see include
-- touchThreadIndex). An index key of the wrong type must not fail the thread's write: the index is allowed to be
-- stale, as when saverTouchThread fails on a cluster.
-- @include touchThreadIndex
local function finishThreadWrite(ttlText, threadIndex, threadId, byNamespace)
  if ttlText ~= "0" then
    for _, i in ipairs({ 1, 2, 3, 5 }) do
      redis.call("PEXPIRE", KEYS[i], ttlText)
    end
    -- writesIndex, runFences and byRun exist only on some threads (overflow writes; leased runs or a pin; run ids):
    -- one EXISTS of the three, and their PEXPIRE only when one of them exists.
    if redis.call("EXISTS", KEYS[6], KEYS[7], KEYS[8]) > 0 then
      for i = 6, 8 do
        redis.call("PEXPIRE", KEYS[i], ttlText)
      end
    end
  end
  if threadIndex then
    touchThreadIndex(threadIndex, threadId, true, byNamespace)
  end
end

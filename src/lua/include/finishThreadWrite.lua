-- finishThreadWrite(ttlMs, threadIndex, threadId, graceMs): the common end of saverPut and saverPutWrites. Refreshes
-- the TTL of the thread's six keys (KEYS[1..6]) and, when the index key was passed (standalone), records the
-- thread's activity. An index key of the wrong type must not fail the thread's write: the index is allowed to be
-- stale, as when saverTouchThread fails on a cluster.
-- @include touchThreadIndex
local function finishThreadWrite(ttlMs, threadIndex, threadId, graceMs)
  if ttlMs > 0 then
    for i = 1, 6 do
      redis.call("PEXPIRE", KEYS[i], ttlMs)
    end
  end
  if threadIndex then
    local kind = redis.call("TYPE", threadIndex)["ok"]
    if kind == "zset" or kind == "none" then
      touchThreadIndex(threadIndex, threadId, ttlMs, graceMs)
    end
  end
end

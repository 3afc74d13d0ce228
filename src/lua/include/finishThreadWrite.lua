-- finishThreadWrite(ttlMs, threadIndex, threadId, graceMs): the common end of saverPut and saverPutWrites. Refreshes
-- the TTL of the thread's eight keys (KEYS[1..8]) and, when the index key was passed (standalone), records the
-- thread's activity. An index key of the wrong type must not fail the thread's write: the index is allowed to be
-- stale, as when saverTouchThread fails on a cluster.
-- @include touchThreadIndex
local function finishThreadWrite(ttlMs, threadIndex, threadId, graceMs)
  if ttlMs > 0 then
    for i = 1, 8 do
      redis.call("PEXPIRE", KEYS[i], ttlMs)
    end
  end
  if threadIndex then
    touchThreadIndex(threadIndex, threadId, true)
  end
end

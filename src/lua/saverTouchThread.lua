--[[
  saverTouchThread: records activity of one thread in its bucket of the cross-thread index that list() without a
  thread_id walks. Runs next to the thread's own write script (the index lives in another slot): it is idempotent,
  and a stale entry is tolerated and cleaned later (threads idle past their TTL are dropped by saverRegisterThread).

  KEYS[1] threadIndex   ZSET  thread id -> server time (ms) of its last activity (ThreadRegistryKeys.updated)

  ARGV[1] threadId      the thread id (raw string)

  Result: the thread's new score (integer). Scores only grow, so a reader that saw an older score can tell that
  the thread was written since (see saverForgetThread).

  Errors: none.
]]
-- @include touchThreadIndex

return touchThreadIndex(KEYS[1], ARGV[1])

--[[
  saverTouchThread: records activity of one thread in the cross-thread index that list() without a thread_id walks,
  and drops entries of threads that have certainly expired. Runs next to the thread's own write script (the index
  lives in another slot): it is idempotent, and a stale entry is tolerated and cleaned later.

  KEYS[1] threadIndex   ZSET  thread id -> server time (ms) of its last activity

  ARGV[1] threadId      the thread id (raw string)
  ARGV[2] ttlMs         the threads' TTL in milliseconds, "0" when threads never expire
  ARGV[3] graceMs       extra margin (ms) before an entry older than ttlMs is dropped

  Result: the thread's new score (integer). Scores only grow, so a reader that saw an older score can tell that
  the thread was written since (see saverForgetThread).

  Errors: none.
]]
-- @include touchThreadIndex

return touchThreadIndex(KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]))

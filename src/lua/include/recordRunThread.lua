-- recordRunThread(runThreads, threadId, ttlMs, graceMs): notes that a run wrote to a thread, in the run's HASH of
-- thread ids (thread id -> "1"; deleteForRuns reads it to find the run's checkpoints). Included by saverPut
-- (standalone: same script) and saverRecordRun (cluster: the set lives in the run's slot).
-- With a thread TTL the set lives ttlMs + graceMs past the run's last write there, so it never expires before the
-- checkpoints it points at; but a set that exists without a TTL keeps none: a saver without a TTL recorded a thread
-- in it, whose checkpoints never expire. Without a thread TTL the set loses its TTL when a thread enters it (HSET
-- counts one new field): a thread already in it was recorded either by such a write (the set has had no TTL since)
-- or by a saver with a TTL, which put that TTL on the thread's keys too; so the common put (the run's next
-- checkpoint on the same thread) costs one command here instead of two.
local function recordRunThread(runThreads, threadId, ttlMs, graceMs)
  if ttlMs > 0 then
    local left = redis.call("PTTL", runThreads)
    redis.call("HSET", runThreads, threadId, "1")
    if left ~= -1 and left < ttlMs + graceMs then
      redis.call("PEXPIRE", runThreads, ttlMs + graceMs)
    end
  elseif redis.call("HSET", runThreads, threadId, "1") == 1 then
    redis.call("PERSIST", runThreads)
  end
end

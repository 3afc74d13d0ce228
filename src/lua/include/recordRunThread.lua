-- recordRunThread(runThreads, threadId, ttlMs, graceMs): notes that a run wrote to a thread, in the run's HASH of
-- thread ids (thread id -> "1"; deleteForRuns reads it to find the run's checkpoints). With a thread TTL the set lives ttlMs + graceMs
-- past the run's last write there, so it never expires before the checkpoints it points at. Included by saverPut
-- (standalone: same script) and saverRecordRun (cluster: the set lives in the run's slot).
local function recordRunThread(runThreads, threadId, ttlMs, graceMs)
  redis.call("HSET", runThreads, threadId, "1")
  if ttlMs > 0 then
    local left = redis.call("PTTL", runThreads)
    if left < ttlMs + graceMs then
      redis.call("PEXPIRE", runThreads, ttlMs + graceMs)
    end
  else
    redis.call("PERSIST", runThreads)
  end
end

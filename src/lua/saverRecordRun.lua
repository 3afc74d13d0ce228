--[[
  saverRecordRun (Redis Cluster): records that a run writes to a thread, in the run's own slot, before the thread's
  saverPut runs (so the record is a superset: a crash between the two leaves a record pointing at nothing, never a
  checkpoint deleteForRuns cannot find). On a standalone server saverPut records it itself.

  KEYS[1] runThreads    HASH  thread id -> "1": the threads the run wrote checkpoints to

  ARGV[1] threadId      the thread id (raw string)
  ARGV[2] ttlMs         thread TTL in milliseconds; "0": threads never expire, neither does the set
  ARGV[3] graceMs       extra lifetime (ms) past ttlMs

  Result: 1.

  Errors: none (a key of another Redis type fails with WRONGTYPE, reported as CorruptCheckpointError).
]]
-- @include recordRunThread

recordRunThread(KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]))
return 1

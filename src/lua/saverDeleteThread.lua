--[[
  saverDeleteThread: removes every key of one thread with UNLINK (the memory is freed off the main thread), unless a
  live leased run is writing the thread (include liveRuns): then nothing is removed, as deleteForRuns and copyThread
  refuse such a thread. Emptying it under the run would delete the lease fence with the rest (a run taken over later
  could write again) and leave the run's next checkpoint without its parent.

  KEYS[1] checkpoints   HASH  the thread's keys, in the saver's order (all removed)
  KEYS[2] blobs         HASH
  KEYS[3] byNamespace   ZSET or LIST (see include checkpointIndex)
  KEYS[4] byId          ZSET  (earlier releases)
  KEYS[5] writes        HASH
  KEYS[6] writesIndex   ZSET
  KEYS[7] runFences     HASH  lease fences and live marks: read for the live runs first
  KEYS[8] byRun         ZSET

  ARGV: none

  Result: { removed, runIds }: the number of keys removed and the escaped ids of the runs the thread's run index
  named (include runIndex; the client drops the thread from their run records, which live in the runs' slots); or
  { -1, runId, ... } when a live leased run is writing the thread (the run ids of its live marks; ThreadLeasedError
  for the caller).

  Errors: the refusal above.
]]
-- @include liveRuns
-- @include runIndex

local liveRuns = liveRunsOn(KEYS[7], "", 0)
if #liveRuns > 0 then return { -1, unpack(liveRuns) } end
local runs = runIndexRuns(KEYS[8])
return { redis.call("UNLINK", unpack(KEYS)), runs }

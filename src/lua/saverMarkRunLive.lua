--[[
  saverMarkRunLive: keeps alive or clears the live mark of a leased run on its thread (include liveRuns), which
  saverRaiseRunFence wrote when the run started. withRunLease refreshes it with each heartbeat of the run's lease and
  clears it when the run ends; cancelRun clears the mark of a crashed run it stops. A refresh never creates a mark: a
  late heartbeat cannot bring back a mark the run's end cleared.

  KEYS[1] runFences     HASH  run fence fields, live marks, "pinned" (the thread's hash tag)

  ARGV[1] field         the run fence field of the lease (keys.runFenceField)
  ARGV[2] token         the lease token the mark must carry; "0" with ARGV[4]: any token
  ARGV[3] liveMs        > 0: the mark now expires liveMs from the server's clock; "0": remove the mark
  ARGV[4] runId         with token "0": the run id the mark must carry (a crashed run, whose token the caller lacks)

  Result: 1 when the mark was refreshed or removed, 0 when there was no such mark (nothing changed).

  Errors: none (a key of another Redis type fails with WRONGTYPE, reported as CorruptCheckpointError).
]]
-- @include liveRuns

local runFences, markField = KEYS[1], LIVE_RUN_PREFIX .. ARGV[1]
local wantToken, liveMs, wantRunId = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4] or ""

local token, _, runId = liveRunMark(redis.call("HGET", runFences, markField))
if not token then return 0 end
if wantToken > 0 and token ~= wantToken then return 0 end
if wantToken == 0 and runId ~= wantRunId then return 0 end
if liveMs == 0 then
  return redis.call("HDEL", runFences, markField)
end
redis.call("HSET", runFences, markField, string.format("%d %d ", token, serverTimeMs() + liveMs) .. runId)
return 1

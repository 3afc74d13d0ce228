--[[
  saverRaiseRunFence: records the lease token of a run that just took a thread's lease (a new run, a run taking over
  an expired lease, or a recoverer resuming it), before the run reads or writes anything. From then on saverPut and
  saverPutWrites refuse writes that carry an older token for the same field: a paused process whose lease was taken
  over cannot fork the thread's history when it wakes up. Tokens only grow, so a token older than the recorded one
  means the caller was itself taken over already.

  KEYS[1] runFences     HASH  run fence field -> newest lease token (the thread's hash tag)

  ARGV[1] field         run fence field (keys.runFenceField: lease prefix, graph name, leased namespace)
  ARGV[2] token         the caller's lease token (integer)
  ARGV[3] ttlMs         the saver's thread TTL in ms, "0" for none (the hash then lives as long as the thread)
  ARGV[4] liveMs        optional: also mark the run live on the thread for this long (ms; include liveRuns), until
                        saverMarkRunLive refreshes or clears the mark; absent or "0": no mark
  ARGV[5] runId         with ARGV[4]: the run's id (recorded in the mark)

  Results:
    {1, token}        recorded (or already recorded)
    {0, newestToken}  a newer token is recorded: the caller's lease was taken over; nothing changed

  Errors: none raised; {0, newestToken} is an outcome (RunLeaseLostError for the caller).
]]
-- @include liveRuns
local runFences = KEYS[1]
local field, token, ttlMs = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])

local newest = tonumber(redis.call("HGET", runFences, field) or "0")
if token < newest then return { 0, newest } end
redis.call("HSET", runFences, field, ARGV[2])
if tonumber(ARGV[4] or "0") > 0 then
  local mark = string.format("%d %d ", token, serverTimeMs() + tonumber(ARGV[4])) .. ARGV[5]
  redis.call("HSET", runFences, LIVE_RUN_PREFIX .. field, mark)
end
if ttlMs > 0 then redis.call("PEXPIRE", runFences, ttlMs) end
return { 1, token }

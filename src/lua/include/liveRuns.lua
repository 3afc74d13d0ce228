-- Live runs on a thread: which leased runs are writing it now, so that the thread operations that rewrite or replace
-- its history (saverDeleteForRuns, saverPrune's delete, saverImportThread into it) refuse to run under them.
-- withRunLease marks its run in the thread's runFences hash (the fences' own slot) when it raises its fence
-- (saverRaiseRunFence), keeps the mark alive with each heartbeat and removes it when the run ends (saverMarkRunLive):
-- field LIVE_RUN_PREFIX .. fenceField -> "token expiresAtMs runId" (server clock; run id last, it may hold spaces).
-- A mark counts while it has not expired and its token is still the field's newest fence token (a run taken over
-- is not live: the run that took it over wrote its own mark).
--
-- liveRunMark(value): token, expiresAtMs, runId of a mark's value (nil when it cannot be read).
-- liveRunsOn(runFences, callerField, callerToken): the run ids of the live marks on the thread, leaving out the
--   caller's own (its fence field and token: a run removing what it wrote itself, on rollback); empty when none.
-- @include serverTimeMs

-- No fence field starts with "{" (keys.runFenceField escapes it), so no mark is taken for a fence, nor for "pinned".
local LIVE_RUN_PREFIX = "{live}"

local function liveRunMark(value)
  local token, expiresAtMs, runId = string.match(value or "", "^(%d+) (%d+) (.*)$")
  if not token then return nil end
  return tonumber(token), tonumber(expiresAtMs), runId
end

local function liveRunsOn(runFences, callerField, callerToken)
  local live = {}
  local flat = redis.call("HGETALL", runFences)
  local nowMs = nil
  for i = 1, #flat, 2 do
    if string.sub(flat[i], 1, #LIVE_RUN_PREFIX) == LIVE_RUN_PREFIX then
      local fenceField = string.sub(flat[i], #LIVE_RUN_PREFIX + 1)
      local token, expiresAtMs, runId = liveRunMark(flat[i + 1])
      nowMs = nowMs or serverTimeMs()
      local newest = tonumber(redis.call("HGET", runFences, fenceField) or "0")
      local own = fenceField == callerField and token == tonumber(callerToken)
      if token and expiresAtMs > nowMs and token >= newest and not own then
        live[#live + 1] = runId
      end
    end
  end
  return live
end

-- historyEpoch: a token in the thread's runFences hash (field HISTORY_EPOCH_FIELD, beside the fences and the pin)
-- that changes whenever checkpoints that stay lose or change ancestors: saverDeleteForRuns cut a run out of a chain,
-- saverImportThread wrote a whole thread where one with the same checkpoint ids may have been before. saverDeltaHistory
-- returns it with every page, and a client that holds a history (src/saver/delta-history-cache.ts) uses what it
-- holds only while the token is the same. Retention and prune change nothing here: they keep every ancestor a kept
-- checkpoint needs. A thread removed whole loses the token with its keys.
--
-- historyEpochOf(runFences): the token, "" for none.
-- historyEpochChange(runFences, ttlFrom): a new token (the server clock to the microsecond); with ttlFrom, the hash
--   gets that key's TTL, so a hash created here does not outlive the thread.
-- @include runFencesField
local HISTORY_EPOCH_FIELD = "{epoch}"

local function historyEpochOf(runFences)
  return redis.call("HGET", runFences, HISTORY_EPOCH_FIELD) or ""
end

local function historyEpochChange(runFences, ttlFrom)
  local time = redis.call("TIME")
  runFencesFieldSet(runFences, HISTORY_EPOCH_FIELD, time[1] .. "." .. time[2], ttlFrom)
end

-- putCheckpoint(checkpoints, blobs, byNamespace, field, record, first, zsetIndex, listHint): the writes every put
-- makes, shared by saverPut and saverPutCompact. ARGV[first..] are pairs of (blob field, framed blob). First checks the
-- base of every delta blob (format 2 or 4: it names its base and the base's stored length in its first two parts); then
-- stores the blobs not stored yet (HSETNX: versions are unique per value, so an existing one holds the same bytes), the
-- record under `field` and its byNamespace entry (include checkpointIndex: a new thread's index is a ZSET when
-- zsetIndex is true, else a LIST; listHint: the client has seen a LIST there, see checkpointIndexAdd). A record put
-- again under a field that holds one (LangGraph puts a checkpoint again) takes over the pending-write bundle the stored
-- one carries (include recordWrites); the common new field costs one HSETNX and nothing more. Returns the number of
-- blobs newly stored, or -i when the delta blob of pair i (1 for the first) names a base that is not stored with that
-- length: nothing is written then, and the writer sends full copies.
-- @include deltaBlob
-- @include checkpointIndex

-- Lua defines a script's functions anew at every call: the delta-base check includes what it needs inside itself
-- (indented), so only the puts that send a delta define those functions.
local function putMissingDeltaBase(blobs, first, from)
  -- @include checkpointRefs
  for i = from, #ARGV, 2 do
    local value = ARGV[i + 1]
    -- No HEXISTS of the field first: a delta whose field is already stored but whose base is gone (a retry after
    -- the base was trimmed) only makes the writer send the full copy, which HSETNX then leaves alone.
    if isDeltaBlob(value) then
      local base = blobBaseField(ARGV[i], value)
      -- The second part starts right after the first: frame it as a one-part frame (a dummy format byte first).
      local length = base and framedFirstPart(string.sub(value, 5 + #framedFirstPart(value)))
      if not base or not length or redis.call("HSTRLEN", blobs, base) ~= tonumber(length) then
        return -((i - first) / 2 + 1)
      end
    end
  end
  return nil
end

-- The rare put again: the stored record's bundle, if it carries one, goes into the new record. The include is inside
-- the function (indented), so only such puts define its functions.
local function putCheckpointAgain(checkpoints, field, record)
  -- @include recordWrites
  local stored = redis.call("HGET", checkpoints, field)
  local _, carried = recordWritesSplit(stored)
  redis.call("HSET", checkpoints, field, carried and recordWritesWrap(record, carried) or record)
end

local function putCheckpoint(checkpoints, blobs, byNamespace, field, record, first, zsetIndex, listHint)
  for i = first, #ARGV, 2 do
    if isDeltaBlob(ARGV[i + 1]) then
      local missing = putMissingDeltaBase(blobs, first, i)
      if missing then return missing end
      break
    end
  end
  local stored = 0
  for i = first, #ARGV, 2 do
    stored = stored + redis.call("HSETNX", blobs, ARGV[i], ARGV[i + 1])
  end
  if redis.call("HSETNX", checkpoints, field, record) == 0 then
    putCheckpointAgain(checkpoints, field, record)
  end
  checkpointIndexAdd(byNamespace, field, zsetIndex, listHint)
  return stored
end

-- A put script's reply once the checkpoint is stored: wrapped as { -3, reply } when byNamespace is not a LIST (a ZSET
-- of an earlier release or of `compression: false`), which tells the client not to send the "l" flag for the thread.
local function putCheckpointReply(byNamespace, reply)
  if checkpointIndexKind(byNamespace) ~= "list" then
    return { -3, reply }
  end
  return reply
end

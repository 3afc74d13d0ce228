--[[
  saverSweepBlobs: one page of prune()'s blob sweep on one thread marked for it (include blobSweep): deletes the
  blobs of one HSCAN page of the blobs hash that no remaining checkpoint of their namespace needs, directly or as a
  delta base (include dropUnneededBlobs, the check a prune step makes of the blobs it leaves unneeded). The client
  calls it from cursor "0" until it answers cursor "0". A pass that ends without skipping a namespace removes the
  mark; a namespace holding more than maxRecords checkpoints is skipped (its blobs stay, and so does the mark, for
  the next prune). Each call reads one page and the records of the namespaces its blobs belong to.

  KEYS[1] checkpoints   HASH  ns\0id -> framed checkpoint record
  KEYS[2] blobs         HASH  ns\0channel\0version -> framed channel value
  KEYS[3] byNamespace   ZSET or LIST  ns\0id (include checkpointIndex)
  KEYS[4] runFences     HASH  holds the mark (include blobSweep)

  ARGV[1] cursor        the HSCAN cursor of the blobs hash, "0" to start a pass
  ARGV[2] count         HSCAN's COUNT hint
  ARGV[3] maxRecords    a namespace with more checkpoints than this is skipped
  ARGV[4] keepLast      the prune's keepLast, for the audit event

  Result: { cursor, blobs, records }: the next cursor ("0" when the pass is over, or at once when the thread carries
  no mark), the blobs deleted, and the most checkpoints a namespace checked in this call held (the client sizes the
  next page by it: each call reads those records once, whatever the page holds).

  Errors: none (a key of another Redis type fails with WRONGTYPE, reported as CorruptCheckpointError).

  Audit (optional, see include auditOutbox): event prune (fields keepLast, checkpoints 0, writes 0, blobs: the
  count deleted), when the call deleted blobs.
]]
-- @include auditOutbox
-- @include blobSweep
-- @include checkpointIndex
-- @include dropUnneededBlobs

local checkpoints, blobs, byNamespace, runFences = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local cursor, maxRecords = ARGV[1], tonumber(ARGV[3])

local mark = blobSweepState(runFences)
if not mark then
  return { "0", 0, 0 }
end
if cursor == "0" and mark ~= "1" then
  -- A new pass: only a namespace skipped in this one keeps the mark.
  redis.call("HSET", runFences, BLOB_SWEEP_FIELD, "1")
end

local page = redis.call("HSCAN", blobs, cursor, "COUNT", ARGV[2])
local fields = page[2]
local candidates, touched, sizes = {}, {}, {}
local records, skipped = 0, false
for i = 1, #fields, 2 do
  local field = fields[i]
  local cut = string.find(field, "\0", 1, true)
  if cut then
    local ns = string.sub(field, 1, cut - 1)
    if sizes[ns] == nil then
      local size = checkpointIndexLexCount(byNamespace, "[" .. ns .. "\0", "(" .. ns .. "\1")
      sizes[ns] = size
      if size > maxRecords then
        skipped = true
      else
        candidates[ns] = {}
        touched[#touched + 1] = ns
        records = math.max(records, size)
      end
    end
    if candidates[ns] then
      candidates[ns][field] = true
    end
  end
end

local removed = dropUnneededBlobs(checkpoints, blobs, byNamespace, candidates, touched)
if skipped then
  redis.call("HSET", runFences, BLOB_SWEEP_FIELD, "2")
elseif page[1] == "0" and blobSweepState(runFences) == "1" then
  redis.call("HDEL", runFences, BLOB_SWEEP_FIELD)
end
if removed > 0 then
  auditEvent("prune", "keepLast", ARGV[4], "checkpoints", 0, "writes", 0, "blobs", removed)
end
return { page[1], removed, records }

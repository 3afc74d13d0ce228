--[[
  saverPut: stores one checkpoint atomically: its new channel blobs, its record and both index entries, then
  refreshes the TTL of every key of the thread. Bytes arrive serialised; this script only moves them. A put that
  needs none of the TTL, the lease fence, the run index and retention goes through saverPutCompact instead (the same
  writes, include putCheckpoint, and the legacy upgrade, with 3 to 5 keys and 4 arguments instead of 10 and 10).

  KEYS[1] checkpoints   HASH  ns\0id -> framed checkpoint record; its first part is the refs text
                        ("parentId\nchannel\0version\n...", escaped parts) that saverRead reads to find the blobs
  KEYS[2] blobs         HASH  ns\0channel\0version -> framed channel value
  KEYS[3] byNamespace   ZSET or LIST  ns\0id (include checkpointIndex; a new thread's is a LIST, or a ZSET with the
                        "z" flag)
  KEYS[4] byId          ZSET  written by earlier releases only: deleted on upgrade (include legacyLayout), no TTL refresh
  KEYS[5] writes        HASH  (TTL refresh; retention removes trimmed checkpoints' writes, include pendingWrites)
  KEYS[6] writesIndex   ZSET  (TTL refresh; the same)
  KEYS[7] runFences     HASH  run fence field -> newest lease token (leased runs; TTL refresh otherwise)
  KEYS[8] byRun         ZSET  one member per (run, namespace) the thread's checkpoints name (include runIndex), when
                        the checkpoint names its run (ARGV[8]); its record then carries the run line in its refs
  KEYS[9] threadIndex   ZSET  optional: the cross-thread index (thread id -> server time in ms of its last write),
                        passed only where it shares the thread's slot (a standalone server); on a cluster the
                        client touches it with saverTouchThread instead
  KEYS[10] runThreads   HASH  optional (standalone, with KEYS[9] and a run id): the thread ids the run wrote to; on
                        a cluster the client records it first with saverRecordRun

  ARGV[1] ttlMs         thread TTL in milliseconds; "0" leaves TTLs alone
  ARGV[2] field         ns\0id (also the byNamespace member)
  ARGV[3] record        framed checkpoint record (bytes)
  ARGV[4] threadId      the thread id (raw string), for KEYS[9] and KEYS[10]
  ARGV[5] graceMs       with KEYS[9] and ttlMs: extra margin (ms) before an idle index entry is trimmed
  ARGV[6] fenceField    the run fence field of the writing run's lease, "" when the run holds no lease
  ARGV[7] fenceToken    that lease's token (integer)
  ARGV[8] runId         the escaped run id the record's refs name on their run line, or "" when the checkpoint
                        carries no run id
  ARGV[9] retention     "keepLast slack" (the retention option) or "": trims the namespace's history now and then
                        (include retention)
  ARGV[10] flags        "u": convert what earlier releases stored for this thread (include legacyLayout); the
                        client asks at the first put of a thread in its process; "z": a new thread's byNamespace
                        is a ZSET, as earlier releases read it (the `compression: false` option); "l": the client
                        has seen byNamespace be a LIST, so the put does not ask its TYPE (include checkpointIndex)
  ARGV[11..]            pairs of (blob field, framed blob); a blob already stored for that (channel, version) is
                        kept: versions are unique per value, so an existing one holds the same bytes. A delta blob
                        (format 2 or 4) names its base and the base's stored length in its first two parts

  Result: the number of blobs newly stored (integer), as {-3, stored} when byNamespace is not a LIST (include
  putCheckpoint: the client stops sending "l"), either wrapped as {-4, reply, runIds, fresh} when retention removed the
  last checkpoints of runs on this thread (runIds: their escaped ids; the client drops the thread from their run
  records, which live in other slots) or, on a cluster (no KEYS[10]), fresh is 1: the thread held no checkpoint of this
  put's run before (the client makes sure the run's record names the thread); {-1, newestToken} when the run's lease was
  taken over (a newer token is recorded under ARGV[6]); or -i when the delta blob of pair i (1 for the first pair) names
  a base that is not stored with that length: the writer then sends full copies. Nothing is written in the last two
  cases.

  Errors: the fenced reply above (RunLeaseLostError for the caller); a key of another Redis type fails with
  WRONGTYPE, reported as CorruptCheckpointError.

  Audit (optional, see include auditOutbox): event checkpoint (field blobs: the number newly stored).
]]
-- @include auditOutbox
-- @include checkRunFence
-- @include putCheckpoint
-- @include finishThreadWrite
-- @include recordRunThread
-- @include legacyLayout

-- Lua defines a script's functions anew at every call: retention's functions are included inside the function that
-- runs them (indented), so only the puts that trim define them.
local function trimAfterPut(ns, spec)
  -- @include retention
  return retentionAfterPut(ns, spec)
end

-- Counts the checkpoint in its run's member of the run index; `previous` is the record the put replaced (false for
-- none): a retry of the same run counts once, a checkpoint put again under another run moves to it. Returns true
-- when the thread held no checkpoint of the run before (with askFresh only: a cluster's client then makes sure the
-- run's hash names the thread, which a trim may have taken out since this process recorded it). The include is
-- inside the function, as retention's: only the puts that carry a run id define its functions.
local function indexRunPut(runId, field, previous, askFresh)
  -- @include runIndex
  local previousRun = previous and runIndexRunOf(previous)
  if previousRun == runId then
    return false
  end
  local cut = string.find(field, "\0", 1, true)
  local ns = string.sub(field, 1, cut - 1)
  local fresh = runIndexAdd(KEYS[8], runId, ns, string.sub(field, cut + 1)) and askFresh
    and #redis.call("ZRANGE", KEYS[8], "[" .. runId .. "\0", "(" .. runId .. "\1", "BYLEX", "LIMIT", 0, 2) == 1
  if previousRun then
    runIndexDrop(KEYS[8], previousRun, ns)
  end
  return fresh
end

local ttlMs = tonumber(ARGV[1])
local field, runId = ARGV[2], ARGV[8]

local newer = checkRunFence(KEYS[7], ARGV[6], ARGV[7])
if newer then return { -1, newer } end

-- The record this put replaces, read only when there is one (a retry) and the run index needs it.
local previous = runId ~= "" and redis.call("HEXISTS", KEYS[1], field) == 1 and redis.call("HGET", KEYS[1], field)
local flags = ARGV[10]
local stored = putCheckpoint(
  KEYS[1], KEYS[2], KEYS[3], field, ARGV[3], 11, string.find(flags, "z", 1, true), string.find(flags, "l", 1, true)
)
if stored < 0 then return stored end
if string.find(flags, "u", 1, true) then
  upgradeLegacyLayout(KEYS[4])
end
local freshRun = false
if runId ~= "" then
  freshRun = indexRunPut(runId, field, previous, not KEYS[10])
  if KEYS[10] then
    recordRunThread(KEYS[10], ARGV[4], ttlMs, tonumber(ARGV[5]))
  end
end

local forgotten
if ARGV[9] ~= "" then
  forgotten = trimAfterPut(string.sub(field, 1, string.find(field, "\0", 1, true) - 1), ARGV[9])
end
finishThreadWrite(ARGV[1], KEYS[9], ARGV[4], KEYS[3])
auditEvent("checkpoint", "blobs", stored)
local reply = putCheckpointReply(KEYS[3], stored)
if (forgotten and #forgotten > 0) or freshRun then
  return { -4, reply, forgotten or {}, freshRun and 1 or 0 }
end
return reply

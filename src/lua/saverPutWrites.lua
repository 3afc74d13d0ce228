--[[
  saverPutWrites: stores the pending writes of one task against one checkpoint atomically, then refreshes the TTL
  of every key of the thread. The checkpoint need not exist yet (with durability "exit" writes come first).

  KEYS[1] checkpoints   HASH  ns\0id -> framed checkpoint record: carries the checkpoint's bundle once it is stored
                        (include pendingWrites)
  KEYS[2..4]            blobs, byNamespace (TTL refresh only), byId (earlier releases; left alone)
  KEYS[5] writes        HASH  a checkpoint's bundle `ns\0id` and its overflow fields `ns\0id\0taskId\0idx` (include
                        pendingWrites)
  KEYS[6] writesIndex   ZSET  the overflow fields (score 0), so one checkpoint's overflow writes are one lex range
  KEYS[7] runFences     HASH  run fence field -> newest lease token (leased runs; TTL refresh otherwise)
  KEYS[8] byRun         ZSET  (TTL refresh only)
  KEYS[9] threadIndex   ZSET  optional: the cross-thread index, as in saverPut (passed on a standalone server
                        when threads have a TTL: writes then extend the thread's life, so its entry must stay)

  ARGV[1] ttlMs         thread TTL in milliseconds; "0" leaves TTLs alone
  ARGV[2] threadId      the thread id (raw string), for KEYS[9]
  ARGV[3] graceMs       with KEYS[9]: extra margin (ms) before an idle index entry is trimmed
  ARGV[4] fenceField    the run fence field of the writing run's lease, "" when the run holds no lease
  ARGV[5] fenceToken    that lease's token (integer)
  ARGV[6] field         ns\0id: the checkpoint the writes belong to
  ARGV[7..]             triples of (overflow field ns\0id\0taskId\0idx, mode, framed write): mode "1" replaces the
                        stored write of the same (taskId, idx) where it is (special writes: error, interrupt,
                        scheduled, resume), mode "0" adds it only if absent (a retried task never replaces what its
                        first attempt stored). A write goes into the bundle while it stays within the include's
                        limit, into its overflow field otherwise: the work per call is bounded, however many tasks
                        wrote to the checkpoint before

  Result: the number of writes stored (integer); {-1, newestToken} when the run's lease was taken over (a newer
  token is recorded under ARGV[4]); or -1 when the checkpoint's bundle holds writes of the task and cannot be read.
  Nothing is written in the last two cases.

  Errors: the fenced reply and -1 above (RunLeaseLostError and CorruptCheckpointError for the caller); a key of
  another Redis type fails with WRONGTYPE, reported as CorruptCheckpointError.

  Audit (optional, see include auditOutbox): event writes (field stored) when at least one write was stored.
]]
-- @include auditOutbox
-- @include checkRunFence
-- @include finishThreadWrite
-- @include pendingWrites


local newer = checkRunFence(KEYS[7], ARGV[4], ARGV[5])
if newer then return { -1, newer } end

local stored = pendingWritesAdd(ARGV[6], ARGV, 7)
if stored < 0 then return stored end

finishThreadWrite(ARGV[1], KEYS[9], ARGV[2])
if stored > 0 then auditEvent("writes", "stored", stored) end
return stored

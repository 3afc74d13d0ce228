--[[
  saverPutWrites: stores the pending writes of one task against one checkpoint atomically, then refreshes the TTL
  of every key of the thread. The checkpoint need not exist yet (with durability "exit" writes come first).

  KEYS[1..4]            checkpoints, blobs, byNamespace, byId (earlier releases) (TTL refresh only)
  KEYS[5] writes        HASH  ns\0id\0taskId\0idx -> framed pending write
  KEYS[6] writesIndex   ZSET  the same fields (score 0), so one checkpoint's writes are one lex range
  KEYS[7] runFences     HASH  run fence field -> newest lease token (leased runs; TTL refresh otherwise)
  KEYS[8] byRun         ZSET  (TTL refresh only)
  KEYS[9] threadIndex   ZSET  optional: the cross-thread index, as in saverPut (passed on a standalone server
                        when threads have a TTL: writes then extend the thread's life, so its entry must stay)

  ARGV[1] ttlMs         thread TTL in milliseconds; "0" leaves TTLs alone
  ARGV[2] threadId      the thread id (raw string), for KEYS[9]
  ARGV[3] graceMs       with KEYS[9]: extra margin (ms) before an idle index entry is trimmed
  ARGV[4] fenceField    the run fence field of the writing run's lease, "" when the run holds no lease
  ARGV[5] fenceToken    that lease's token (integer)
  ARGV[6..]             triples of (field, mode, framed write); mode "1" overwrites (special writes: error,
                        interrupt, scheduled, resume), mode "0" inserts only if absent (a retried task never
                        replaces what its first attempt stored)

  Result: the number of writes stored (integer), or {-1, newestToken} when the run's lease was taken over (a newer
  token is recorded under ARGV[4]): nothing was written.

  Errors: the fenced reply above (RunLeaseLostError for the caller); a key of another Redis type fails with
  WRONGTYPE, reported as CorruptCheckpointError.

  Audit (optional, see include auditOutbox): event writes (field stored) when at least one write was stored.
]]
-- @include auditOutbox
-- @include checkRunFence
-- @include finishThreadWrite

local writes, writesIndex = KEYS[5], KEYS[6]
local ttlMs = tonumber(ARGV[1])

local newer = checkRunFence(KEYS[7], ARGV[4], ARGV[5])
if newer then return { -1, newer } end

local stored = 0
for i = 6, #ARGV, 3 do
  local field, mode, value = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if mode == "1" then
    redis.call("HSET", writes, field, value)
    stored = stored + 1
  else
    stored = stored + redis.call("HSETNX", writes, field, value)
  end
  redis.call("ZADD", writesIndex, 0, field)
end

finishThreadWrite(ttlMs, KEYS[9], ARGV[2], tonumber(ARGV[3]))
if stored > 0 then auditEvent("writes", "stored", stored) end
return stored

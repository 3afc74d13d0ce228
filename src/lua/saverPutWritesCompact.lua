--[[
  saverPutWritesCompact: saverPutWrites for the common call, one without a thread TTL or a lease fence: stores the
  pending writes of one task against one checkpoint atomically (include pendingWrites), from only the two keys and
  the arguments that takes (each key and argument costs the client and the server on every call). The checkpoint
  need not exist yet.

  KEYS[1] writes        HASH  a checkpoint's bundle `ns\0id` and its overflow fields (see saverPutWrites)
  KEYS[2] writesIndex   ZSET  the overflow fields (score 0)
  KEYS[3] checkpoints   HASH  ns\0id -> framed checkpoint record, which carries the checkpoint's bundle once it is
                        stored (include pendingWrites)

  ARGV[1] field         ns\0id: the checkpoint the writes belong to
  ARGV[2..]             triples of (overflow field, mode, framed write), as saverPutWrites' ARGV[7..]

  Result: the number of writes stored (integer); or -1 when the checkpoint's bundle holds writes of the task and
  cannot be read (nothing written).

  Errors: -1 above (CorruptCheckpointError for the caller); a key of another Redis type fails with WRONGTYPE,
  reported as CorruptCheckpointError.

  Audit (optional, see include auditOutbox): event writes (field stored) when at least one write was stored.
]]
-- @include auditOutbox
-- @include pendingWrites

-- The include reads the thread's keys at the saver's positions (KEYS[1] checkpoints, KEYS[5] writes, KEYS[6]
-- writesIndex); this call sends only those three, so they go there.
KEYS[5], KEYS[6], KEYS[1] = KEYS[1], KEYS[2], KEYS[3]

local stored = pendingWritesAdd(ARGV[1], ARGV, 2)
if stored < 0 then return stored end
if stored > 0 then auditEvent("writes", "stored", stored) end
return stored

--[[
  saverExportThread: reads everything stored for one thread, as raw bytes, for copyThread: its checkpoint records,
  blobs (delta blobs with their bases: fields are the same in every thread, so chains stay intact), pending
  writes and run index. The other indexes are rebuilt from the fields by saverImportThread. One
  script, so the copy is a snapshot of one instant of the source.

  KEYS[1] checkpoints   HASH  ns\0id -> framed checkpoint record
  KEYS[2] blobs         HASH  ns\0channel\0version -> framed channel value
  KEYS[3] byNamespace   ZSET or LIST  (not read: rebuilt from the checkpoint fields)
  KEYS[4] byId          ZSET  (earlier releases; not read)
  KEYS[5] writes        HASH  pending writes: bundles ns\0id and overflow fields ns\0id\0taskId\0idx (include
                        pendingWrites), exported as they are
  KEYS[6] writesIndex   ZSET  (not read: rebuilt from the overflow fields)
  KEYS[7] runFences     HASH  only its blob sweep mark is read (include blobSweep): lease fences are not copied
  KEYS[8] byRun         ZSET  the run index (include runIndex)

  ARGV: none

  Result: { checkpoints, blobs, writes, runMembers, sweep }: the first three flat HGETALL replies, then a member list,
  and 1 when the thread is marked for prune's blob sweep (its blobs may include unneeded ones: the copy is marked
  too), else 0.

  Errors: none (a key of another Redis type fails with WRONGTYPE, reported as CorruptCheckpointError).
]]
-- @include blobSweep

return {
  redis.call("HGETALL", KEYS[1]),
  redis.call("HGETALL", KEYS[2]),
  redis.call("HGETALL", KEYS[5]),
  redis.call("ZRANGE", KEYS[8], 0, -1),
  blobSweepState(KEYS[7]) and 1 or 0,
}

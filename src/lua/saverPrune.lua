--[[
  saverPrune: one bounded step of prune() (and of sweepExpired() for the keepLatest TTL) on one thread: trims one
  namespace to its newest keepLast checkpoints and what they need (include retention), or, with keepLast 0, deletes
  the whole thread. A pinned thread is left as it is. The client calls again with the same namespace while `more`
  is 1, then with the next namespace, until there is none: each call is atomic and its work bounded.

  KEYS[1] checkpoints   HASH  ns\0id -> framed checkpoint record
  KEYS[2] blobs         HASH  ns\0channel\0version -> framed channel value
  KEYS[3] byNamespace   ZSET  ns\0id
  KEYS[4] byId          ZSET  (earlier releases; include legacyLayout)
  KEYS[5] writes        HASH  ns\0id\0taskId\0idx -> framed pending write
  KEYS[6] writesIndex   ZSET  the writes fields
  KEYS[7] runFences     HASH  run fence fields, and "pinned" for a pinned thread
  KEYS[8] byRun         ZSET  runId\0ns\0id

  ARGV[1] keepLast      checkpoints kept per namespace (integer >= 1); 0 deletes every key of the thread
  ARGV[2] ns            the namespace (escaped) this step trims; the root namespace is ""
  ARGV[3] maxDeletes    most checkpoints this call removes
  ARGV[4] maxVisits     most records and index entries this call reads

  Result: { pinned, checkpoints, writes, blobs, more, nextNs }: pinned 1 when the thread is pinned (nothing done);
  the counts removed; more 1 when this namespace has more to remove (the budget ran out; a call that removes nothing
  and still says more cannot get further); nextNs the next namespace, false when there is none. With keepLast 0: { pinned, checkpoints, writes, blobs, 0, false }.

  Errors: none (a key of another Redis type fails with WRONGTYPE, reported as CorruptCheckpointError).
]]
-- @include retention
-- @include legacyLayout

local keepLast, ns = tonumber(ARGV[1]), ARGV[2]
local maxDeletes, maxVisits = tonumber(ARGV[3]), tonumber(ARGV[4])

if retentionPinned() then
  return { 1, 0, 0, 0, 0, false }
end

if keepLast == 0 then
  local checkpoints = redis.call("HLEN", KEYS[1])
  local writes = redis.call("HLEN", KEYS[5])
  local blobs = redis.call("HLEN", KEYS[2])
  redis.call("DEL", KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8])
  return { 0, checkpoints, writes, blobs, 0, false }
end

-- What earlier releases stored would only go stale here.
upgradeLegacyLayout()
local state = retentionBudget(maxDeletes, maxVisits)
local more = retentionTrimNamespace(state, ns, keepLast, retentionRootCutoff(keepLast), false)
local removed = retentionFinish(state)
local nextNs = retentionNextNamespace(ns) or false
return { 0, removed[1], removed[2], removed[3], more and 1 or 0, nextNs }

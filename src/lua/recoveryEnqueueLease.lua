--[[
recoveryEnqueueLease: the "enqueue" multitask strategy. Puts the caller's run in the FIFO queue of its thread (or
refreshes its place), forgets waiters whose keep-alive passed, and gives the caller the lease when it was handed to
it (recoveryReleaseLease hands a released lease to the head of the queue) or when the lease is free (none, or
expired as for recoveryAcquireLease) and the caller is the head. With mode "leave" the caller leaves the queue (its
wait ended or was aborted); a lease already handed to it is released again, to the next waiter. The queue lives
beside the lease index, in its slot.

KEYS[1] index     sorted set: run member -> lease expiry (Unix time, ms, server clock)
KEYS[2] holders   hash: run member -> "<token>:<kind>:<sinceMs>:<owner>", kind "lease" or "claim"
KEYS[3] counter   string: the last token issued (INCR; also orders the queue)
KEYS[4] runs      hash: run member -> "<token>:<cancel action or empty>:<run id>"
KEYS[5] queue     sorted set: waiter id -> arrival order (one run's queue; removed when empty)
KEYS[6] waiters   hash: waiter id -> record (JSON, see include runQueue)

ARGV[1] member      the run (keys.runLeaseMember)
ARGV[2] owner       who takes the lease (free text, stored as is)
ARGV[3] leaseMs     lease duration, ms
ARGV[4] runId       the run's id (metadata run_id)
ARGV[5] waiterId    the caller's place in the queue (unique per waiting run)
ARGV[6] staleMs     how long the caller's place lives without another call, ms
ARGV[7] mode        "wait" or "leave"

Results:
  {1, token, expiresAtMs, previousHolder}  acquired; the caller left the queue
  {-1, holder, expiresAtMs, position}      still waiting: position is the caller's 0-based place in the queue,
                                           holder the lease holder ("" when free but an earlier waiter is due)
  {0}                                      mode "leave": the caller is no longer queued

Errors: none raised.
Audit (optional, see include auditOutbox): event lease.taken (field token).
]]
-- @include auditOutbox
-- @include serverTimeMs
-- @include runQueue
local index, holders, counter, runs, queue, waiters = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local member, owner, leaseMs, runId = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local waiterId, staleMs, mode = ARGV[5], tonumber(ARGV[6]), ARGV[7]

local now = serverTimeMs()
local stored = redis.call('HGET', waiters, waiterId)
local mine = stored and cjson.decode(stored) or nil
local holder = redis.call('HGET', holders, member) or ''
-- The lease handed to the caller, if it is still held under the token it was handed with.
local handed = mine and mine.g and string.match(holder, '^(%d+):') == mine.g

if mode == 'leave' then
  redis.call('ZREM', queue, waiterId)
  redis.call('HDEL', waiters, waiterId)
  if handed then
    redis.call('ZREM', index, member)
    redis.call('HDEL', holders, member)
    redis.call('HDEL', runs, member)
    queueGrantHead(index, holders, counter, runs, queue, waiters, member, now)
  end
  return {0}
end

if handed then
  -- Picking the lease up renews it: its heartbeats start now, however long ago it was handed over.
  redis.call('HDEL', waiters, waiterId)
  redis.call('ZADD', index, now + leaseMs, member)
  auditEvent('lease.taken', 'token', mine.g)
  return {1, tonumber(mine.g), now + leaseMs, ''}
end

-- Waiters that stopped calling (their process died, or their wait ended without leaving) are skipped.
queueDropStale(waiters, queue, now, waiterId)

if not redis.call('ZSCORE', queue, waiterId) then
  redis.call('ZADD', queue, redis.call('INCR', counter), waiterId)
end
redis.call('HSET', waiters, waiterId, cjson.encode({d = string.format('%d', now + staleMs), o = owner, r = runId, l = leaseMs}))
for _, key in ipairs({queue, waiters}) do
  if redis.call('PTTL', key) < staleMs + leaseMs then redis.call('PEXPIRE', key, staleMs + leaseMs) end
end

local score = redis.call('ZSCORE', index, member)
local expiresAt = score and tonumber(score) or 0
-- ZCOUNT below the caller's arrival, not ZRANK: the commands the scripts use stay those acl.ts grants.
local position = redis.call('ZCOUNT', queue, '-inf', '(' .. redis.call('ZSCORE', queue, waiterId))
if expiresAt > now then return {-1, holder, expiresAt, position} end
if position > 0 then return {-1, '', expiresAt, position} end

redis.call('ZREM', queue, waiterId)
redis.call('HDEL', waiters, waiterId)
local token = redis.call('INCR', counter)
local newExpiresAt = now + leaseMs
redis.call('ZADD', index, newExpiresAt, member)
redis.call('HSET', holders, member, token .. ':lease:' .. now .. ':' .. owner)
redis.call('HSET', runs, member, token .. '::' .. runId)
auditEvent('lease.taken', 'token', string.format('%d', token))
return {1, token, newExpiresAt, holder}

--[[
recoveryAcquireLease: takes the lease of one run (a thread and checkpoint namespace) for a new owner, or turns the
caller's claim on a crashed run into a lease. The index, holders and counter share one hash tag.

KEYS[1] index     sorted set: run member -> lease expiry (Unix time, ms, server clock)
KEYS[2] holders   hash: run member -> "<token>:<kind>:<sinceMs>:<owner>", kind "lease" or "claim"
KEYS[3] counter   string: the last token issued (INCR)
KEYS[4] runs      hash: run member -> "<token>:<cancel action or empty>:<run id>" (the run behind the lease)

ARGV[1] member      the run (keys.runLeaseMember)
ARGV[2] owner       who takes the lease (free text, stored as is)
ARGV[3] leaseMs     lease duration, ms
ARGV[4] claimToken  "0" to acquire; else the token of the caller's claim, which it converts into a lease
ARGV[5] runId       the run's id (metadata run_id), recorded for cancelRun's rollback

Results:
  {1, token, expiresAtMs, previousHolder}  acquired; previousHolder is "" or the expired holder it replaced
  {-1, holder, expiresAtMs}                a live lease or claim (not yet expired) is held by someone else
  {-2, holder}                             claimToken given, but the run is no longer held under that claim
                                           (another recoverer took it over after the claim expired, or it is gone)

Errors: none raised; -1 and -2 are outcomes the caller acts on (RunLeaseHeldError, ClaimLostError).
Audit (optional, see include auditOutbox): event lease.taken, or run.resumed when a claim became the lease (field
token).
]]
-- @include auditOutbox
-- @include serverTimeMs
local index, holders, counter, runs = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local member, owner, leaseMs, claimToken, runId = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]

local now = serverTimeMs()

local score = redis.call('ZSCORE', index, member)
local holder = redis.call('HGET', holders, member)
local expiresAt = score and tonumber(score) or 0
if not holder then holder = '' end

if claimToken ~= '0' then
  -- A late conversion is still safe while the claim's token holds: claims compare tokens atomically.
  if string.match(holder, '^(%d+):claim:') ~= claimToken then
    return {-2, holder}
  end
elseif expiresAt > now then
  return {-1, holder, expiresAt}
end

local token = redis.call('INCR', counter)
local newExpiresAt = now + leaseMs
redis.call('ZADD', index, newExpiresAt, member)
redis.call('HSET', holders, member, token .. ':lease:' .. now .. ':' .. owner)
redis.call('HSET', runs, member, token .. '::' .. runId)
auditEvent(claimToken ~= '0' and 'run.resumed' or 'lease.taken', 'token', string.format('%d', token))
if claimToken ~= '0' then holder = '' end
return {1, token, newExpiresAt, holder}

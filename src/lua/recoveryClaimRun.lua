--[[
recoveryClaimRun: a recoverer claims one crashed run, so that it alone resumes it. Succeeds only while the run is
still held under the token the recoverer saw and that lease (or an earlier claim) has expired; the claim gets a new
token and its own expiry, so a recoverer that dies before resuming frees the run again.

KEYS[1] index     sorted set: run member -> lease expiry (Unix time, ms, server clock)
KEYS[2] holders   hash: run member -> "<token>:<kind>:<sinceMs>:<owner>"
KEYS[3] counter   string: the last token issued (INCR)
KEYS[4] runs      hash: run member -> "<token>:<cancel action or empty>:<run id>"

ARGV[1] member         the run (keys.runLeaseMember)
ARGV[2] expectedToken  the token of the expired lease the recoverer found
ARGV[3] claimer        the recoverer's owner id (free text)
ARGV[4] claimMs        claim duration, ms

Results:
  {1, token, expiresAtMs}  claimed
  {0, ""}                  the entry is gone (released, pruned or resumed and finished)
  {-1, holder}             held under another token (another recoverer claimed it, or the run was started again),
                           or cancelRun asked the run to stop (it stops it, and it must not be resumed)
  {-2, holder, expiresAtMs} same token but not expired: the holder is alive and renewed it

Errors: none raised; 0, -1 and -2 are outcomes (the run is not claimed).
Audit (optional, see include auditOutbox): event lease.claimed (field token).
]]
-- @include auditOutbox
-- @include serverTimeMs
local index, holders, counter, runs = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local member, expectedToken, claimer, claimMs = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])

local holder = redis.call('HGET', holders, member)
if not holder then return {0, ''} end
if string.match(holder, '^(%d+):') ~= expectedToken then return {-1, holder} end
local run = redis.call('HGET', runs, member)
if run and string.match(run, '^(%d+):') == expectedToken and string.match(run, '^%d+:(%a*):') ~= '' then
  return {-1, holder}
end

local now = serverTimeMs()
local expiresAt = tonumber(redis.call('ZSCORE', index, member) or 0)
if expiresAt > now then return {-2, holder, expiresAt} end

local token = redis.call('INCR', counter)
local claimExpiresAt = now + claimMs
redis.call('ZADD', index, claimExpiresAt, member)
redis.call('HSET', holders, member, token .. ':claim:' .. now .. ':' .. claimer)
auditEvent('lease.claimed', 'token', string.format('%d', token))
return {1, token, claimExpiresAt}

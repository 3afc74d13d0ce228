--[[
recoveryHeartbeatLease: extends the caller's lease on one run. A lease that expired is still extended while nobody
took it over (claims check token and expiry atomically, so a recoverer that saw it expired cannot claim it after
this). An entry that is gone is never put back: a recoverer may have resumed the run, finished it and released it,
or a search removed it as stale; either way the caller's lease is lost, like one held under another token.

KEYS[1] index     sorted set: run member -> lease expiry (Unix time, ms, server clock)
KEYS[2] holders   hash: run member -> "<token>:<kind>:<sinceMs>:<owner>"
KEYS[3] runs      hash: run member -> "<token>:<cancel action or empty>:<run id>"

ARGV[1] member    the run (keys.runLeaseMember)
ARGV[2] token     the caller's lease token
ARGV[3] leaseMs   new lease duration from now, ms

Results:
  {1, expiresAtMs}  extended
  {2, expiresAtMs, action}  extended, but cancelRun asked this lease's run to stop ("interrupt" | "rollback")
  {0, holder}       lost: the run is held under another token, or its entry is gone (holder "")

Errors: none raised; {0, holder} is an outcome (RunLeaseLostError for the caller).
]]
-- @include serverTimeMs
local index, holders, runs = KEYS[1], KEYS[2], KEYS[3]
local member, token, leaseMs = ARGV[1], ARGV[2], tonumber(ARGV[3])

local holder = redis.call('HGET', holders, member)
if not holder then return {0, ''} end
if string.match(holder, '^(%d+):') ~= token then return {0, holder} end

local now = serverTimeMs()
local expiresAt = now + leaseMs
redis.call('ZADD', index, expiresAt, member)
local run = redis.call('HGET', runs, member)
if run then
  local runToken, action = string.match(run, '^(%d+):(%a*):')
  if runToken == token and action ~= '' then return {2, expiresAt, action} end
end
return {1, expiresAt}

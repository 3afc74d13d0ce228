--[[
recoveryHeartbeatLease: extends the caller's lease on one run. A lease that expired is still extended while nobody
took it over (claims check token and expiry atomically, so a recoverer that saw it expired cannot claim it after
this). An entry that is gone was removed as stale by a search that took the run for dead before its first
checkpoint or after its last one; nobody else can be running it, so it is put back. Once another token holds the
run, the lease is lost for good.

KEYS[1] index     sorted set: run member -> lease expiry (Unix time, ms, server clock)
KEYS[2] holders   hash: run member -> "<token>:<kind>:<sinceMs>:<owner>"

ARGV[1] member    the run (keys.runLeaseMember)
ARGV[2] token     the caller's lease token
ARGV[3] leaseMs   new lease duration from now, ms
ARGV[4] owner     the caller's owner id, to put the entry back with

Results:
  {1, expiresAtMs}  extended
  {2, expiresAtMs}  the entry was gone and is back, held by the caller under its token
  {0, holder}       lost: the run is held under another token

Errors: none raised; {0, holder} is an outcome (RunLeaseLostError for the caller).
]]
-- @include serverTimeMs
local index, holders = KEYS[1], KEYS[2]
local member, token, leaseMs, owner = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]

local holder = redis.call('HGET', holders, member)
if holder and string.match(holder, '^(%d+):') ~= token then return {0, holder} end

local now = serverTimeMs()
local expiresAt = now + leaseMs
redis.call('ZADD', index, expiresAt, member)
if holder then return {1, expiresAt} end
redis.call('HSET', holders, member, token .. ':lease:' .. now .. ':' .. owner)
return {2, expiresAt}

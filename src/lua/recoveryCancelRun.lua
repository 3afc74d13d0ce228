--[[
recoveryCancelRun: asks the run holding a thread's lease to stop (cancelRun, or a run started with the "interrupt"
or "rollback" strategy). A live lease gets the request recorded beside it; the run's own heartbeat reads it and
aborts the run, which then releases its lease. A run whose lease expired (its process died) is stopped here: its
entry is removed, so no recoverer resumes it. Called again with the token it returned, it tells whether that run
is still there.

KEYS[1] index     sorted set: run member -> lease expiry (Unix time, ms, server clock)
KEYS[2] holders   hash: run member -> "<token>:<kind>:<sinceMs>:<owner>"
KEYS[3] runs      hash: run member -> "<token>:<cancel action or empty>:<run id>"

ARGV[1] member         the run (keys.runLeaseMember)
ARGV[2] action         "interrupt" or "rollback"
ARGV[3] expectedToken  "" for whatever run holds the thread; else only the run under this token

Results:
  {0}                     no run holds the thread (or no longer the one under expectedToken)
  {1, token, runId}       a live run: the request is recorded, its heartbeat stops it
  {2, token, runId}       the run had crashed (lease expired): its entry is removed, it will not be resumed
  {-1, holder}            a recoverer's claim holds the thread (a resume is starting): ask again shortly

Errors: none raised; every result is an outcome.
]]
-- @include serverTimeMs
local index, holders, runs = KEYS[1], KEYS[2], KEYS[3]
local member, action, expectedToken = ARGV[1], ARGV[2], ARGV[3]

local holder = redis.call('HGET', holders, member)
if not holder then return {0} end
local token, kind = string.match(holder, '^(%d+):(%a+):')
if expectedToken ~= '' and token ~= expectedToken then return {0} end

local run = redis.call('HGET', runs, member)
local runId = ''
if run and string.match(run, '^(%d+):') == token then runId = string.match(run, '^%d+:%a*:(.*)$') or '' end

local now = serverTimeMs()
local expiresAt = tonumber(redis.call('ZSCORE', index, member) or 0)
if expiresAt > now then
  if kind == 'claim' then return {-1, holder} end
  redis.call('HSET', runs, member, token .. ':' .. action .. ':' .. runId)
  return {1, token, runId}
end
redis.call('ZREM', index, member)
redis.call('HDEL', holders, member)
redis.call('HDEL', runs, member)
return {2, token, runId}

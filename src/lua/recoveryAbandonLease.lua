--[[
recoveryAbandonLease: a run that lost its lease without anyone taking it over (it could not renew it in time) and
was aborted marks the run as crashed at once: its entry expires now (and is put back if a search removed it), so a
recoverer resumes it without waiting. Does nothing when another token holds the run.

KEYS[1] index     sorted set: run member -> lease expiry (Unix time, ms, server clock)
KEYS[2] holders   hash: run member -> "<token>:<kind>:<sinceMs>:<owner>"

ARGV[1] member    the run (keys.runLeaseMember)
ARGV[2] token     the caller's lease token
ARGV[3] owner     the caller's owner id, to put the entry back with

Results:
  1  the entry now expires at the current server time
  0  held under another token: nothing changed

Errors: none.
]]
-- @include serverTimeMs
local index, holders = KEYS[1], KEYS[2]
local member, token, owner = ARGV[1], ARGV[2], ARGV[3]

local holder = redis.call('HGET', holders, member)
if holder and string.match(holder, '^(%d+):') ~= token then return 0 end

local now = serverTimeMs()
redis.call('ZADD', index, now, member)
if not holder then redis.call('HSET', holders, member, token .. ':lease:' .. now .. ':' .. owner) end
return 1

--[[
recoveryReleaseLease: ends the caller's lease on one run (the run finished, was interrupted or failed), removing it
from the index. Does nothing when the run is held under another token.

KEYS[1] index     sorted set: run member -> lease expiry (Unix time, ms, server clock)
KEYS[2] holders   hash: run member -> "<token>:<kind>:<sinceMs>:<owner>"
KEYS[3] runs      hash: run member -> "<token>:<cancel action or empty>:<run id>" (removed with the lease)

ARGV[1] member    the run (keys.runLeaseMember)
ARGV[2] token     the caller's lease token

Results:
  1  released
  0  not the caller's (gone, or held under another token): nothing changed

Errors: none.
]]
local index, holders, runs = KEYS[1], KEYS[2], KEYS[3]
local member, token = ARGV[1], ARGV[2]

local holder = redis.call('HGET', holders, member)
if not holder or string.match(holder, '^(%d+):') ~= token then return 0 end
redis.call('ZREM', index, member)
redis.call('HDEL', holders, member)
redis.call('HDEL', runs, member)
return 1

--[[
recoveryReleaseLease: ends the caller's lease on one run (the run finished, was interrupted or failed), removing it
from the index, and hands the lease to the first live waiter of the run's "enqueue" queue, if any (see include
runQueue; the waiter picks it up at its next look, recoveryEnqueueLease). Does nothing when the run is held under
another token.

KEYS[1] index     sorted set: run member -> lease expiry (Unix time, ms, server clock)
KEYS[2] holders   hash: run member -> "<token>:<kind>:<sinceMs>:<owner>"
KEYS[3] runs      hash: run member -> "<token>:<cancel action or empty>:<run id>" (removed with the lease)
KEYS[4] counter   string: the last token issued (INCR), for the lease handed to a waiter
KEYS[5] queue     sorted set: the run's queue (waiter id -> arrival order)
KEYS[6] waiters   hash: waiter id -> record (JSON)

ARGV[1] member    the run (keys.runLeaseMember)
ARGV[2] token     the caller's lease token

Results:
  1  released
  0  not the caller's (gone, or held under another token): nothing changed

Errors: none.
]]
-- @include serverTimeMs
-- @include runQueue
local index, holders, runs, counter, queue, waiters = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local member, token = ARGV[1], ARGV[2]

local holder = redis.call('HGET', holders, member)
if not holder or string.match(holder, '^(%d+):') ~= token then return 0 end
redis.call('ZREM', index, member)
redis.call('HDEL', holders, member)
redis.call('HDEL', runs, member)
queueGrantHead(index, holders, counter, runs, queue, waiters, member, serverTimeMs())
return 1

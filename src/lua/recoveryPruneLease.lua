--[[
recoveryPruneLease: removes an expired entry whose run has nothing left to do (it finished, stopped at an
interrupt, or never stored a checkpoint), so later searches do not inspect it again. Only while the entry
is still expired and held under the token that was inspected.

KEYS[1] index     sorted set: run member -> lease expiry (Unix time, ms, server clock)
KEYS[2] holders   hash: run member -> "<token>:<kind>:<sinceMs>:<owner>"
KEYS[3] runs      hash: run member -> "<token>:<cancel action or empty>:<run id>" (removed with the entry)

ARGV[1] member         the run (keys.runLeaseMember)
ARGV[2] expectedToken  the token of the expired entry that was inspected

Results:
  1   removed
  0   gone or held under another token: nothing changed
  -1  renewed since (not expired): nothing changed

Errors: none raised; 0 and -1 are outcomes (nothing removed).
]]
-- @include serverTimeMs
local index, holders, runs = KEYS[1], KEYS[2], KEYS[3]
local member, expectedToken = ARGV[1], ARGV[2]

local holder = redis.call('HGET', holders, member)
if not holder or string.match(holder, '^(%d+):') ~= expectedToken then return 0 end

local now = serverTimeMs()
local expiresAt = tonumber(redis.call('ZSCORE', index, member) or 0)
if expiresAt > now then return -1 end

redis.call('ZREM', index, member)
redis.call('HDEL', holders, member)
redis.call('HDEL', runs, member)
return 1

--[[
guardReleaseLockAudited: releases a guarded() lock only if the caller still holds it (what redis-semaphore's
release does), and records the release in the audit outbox in the same script. Used instead of that release when
guarded() audits; a lock found held by someone else (or expired) is left alone and nothing is recorded.

KEYS[1]  mutex key (string: the holder's identifier)
KEYS[2]  outbox stream (taken off by include auditOutbox)

ARGV[1]  holder identifier
ARGV[2]  event context, JSON (taken off by include auditOutbox)

Result: 1 released, 0 not held by the caller.

Errors: none.
]]
-- @include auditOutbox

local mutexKey, identifier = KEYS[1], ARGV[1]
if redis.call("GET", mutexKey) ~= identifier then return 0 end
redis.call("DEL", mutexKey)
auditEvent("lock.released")
return 1

--[[
guardIssueFenceToken: issue the next fencing token for a lock, but only while the caller still holds that lock.

Runs right after a redis-semaphore Mutex acquisition. Checking ownership and incrementing in one script means
a token is only ever issued to the current holder, so tokens for one lock key increase in the order in which the
lock was held. The lock's TTL is renewed at the same time (the caller's lease starts from this call).

When the counter is absent (first use, or it expired, was evicted or was lost in a failover) it is seeded from the
server clock in microseconds, so a re-created counter still issues tokens above every token issued before
(each acquisition takes far longer than a microsecond).

KEYS[1]  mutex key (string: the holder's identifier, with a TTL)
KEYS[2]  fence counter key (integer; same hash tag as KEYS[1])

ARGV[1]  holder identifier (string)
ARGV[2]  lockTimeoutMs: new TTL of the mutex key, in milliseconds
ARGV[3]  fenceTtlMs: TTL of the fence counter, in milliseconds, renewed on every token

Result: the new token (integer > 0), or -1 when the caller no longer holds the lock (nothing changed).

Errors: none raised; -1 is an outcome (the lock is lost).
]]
local mutexKey = KEYS[1]
local counterKey = KEYS[2]
local identifier = ARGV[1]
local lockTimeoutMs = ARGV[2]
local fenceTtlMs = ARGV[3]

if redis.call("GET", mutexKey) ~= identifier then
  return -1
end
redis.call("PEXPIRE", mutexKey, lockTimeoutMs)

if redis.call("EXISTS", counterKey) == 0 then
  local now = redis.call("TIME")
  redis.call("SET", counterKey, now[1] .. string.format("%06d", tonumber(now[2])))
end
local token = redis.call("INCR", counterKey)
redis.call("PEXPIRE", counterKey, fenceTtlMs)
return token

--[[
  saverPin: pins or unpins one thread. A pinned thread is exempt from retention (the keepLast option), prune() and
  the keepLatest TTL sweep; its mark is the field "pinned" of the thread's runFences hash (a field no run fence can
  have: fence fields always hold two ":").

  KEYS[1] runFences     HASH  run fence fields, and "pinned"

  ARGV[1] pinned        "1" pins, "0" unpins
  ARGV[2] ttlMs         the thread TTL in milliseconds (delete strategy), "0" for none: a pin written before the
                        thread's first checkpoint expires like the thread would

  Result: 1 when the mark changed, 0 when it already was so.

  Errors: none (a key of another Redis type fails with WRONGTYPE, reported as CorruptCheckpointError).
]]
local runFences = KEYS[1]
local pinned, ttlMs = ARGV[1], tonumber(ARGV[2])

if pinned == "1" then
  local changed = redis.call("HSETNX", runFences, "pinned", "1")
  if ttlMs > 0 and redis.call("PTTL", runFences) < 0 then
    redis.call("PEXPIRE", runFences, ttlMs)
  end
  return changed
end
return redis.call("HDEL", runFences, "pinned")

--[[
  saverPutWrites: stores the pending writes of one task against one checkpoint atomically, then refreshes the TTL
  of every key of the thread. The checkpoint need not exist yet (with durability "exit" writes come first).

  KEYS[1..5]            checkpoints, refs, blobs, byNamespace, byId (TTL refresh only)
  KEYS[6] writes        HASH  ns\0id\0taskId\0idx -> framed pending write
  KEYS[7] writesIndex   ZSET  the same fields (score 0), so one checkpoint's writes are one lex range

  ARGV[1] ttlMs         thread TTL in milliseconds; "0" leaves TTLs alone
  ARGV[2..]             triples of (field, mode, framed write); mode "1" overwrites (special writes: error,
                        interrupt, scheduled, resume), mode "0" inserts only if absent (a retried task never
                        replaces what its first attempt stored)

  Result: the number of writes stored (integer).
]]
local writes, writesIndex = KEYS[6], KEYS[7]
local ttlMs = tonumber(ARGV[1])

local stored = 0
for i = 2, #ARGV, 3 do
  local field, mode, value = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if mode == "1" then
    redis.call("HSET", writes, field, value)
    stored = stored + 1
  else
    stored = stored + redis.call("HSETNX", writes, field, value)
  end
  redis.call("ZADD", writesIndex, 0, field)
end

if ttlMs > 0 then
  for i = 1, #KEYS do
    redis.call("PEXPIRE", KEYS[i], ttlMs)
  end
end
return stored

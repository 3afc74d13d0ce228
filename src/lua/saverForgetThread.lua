--[[
  saverForgetThread: removes a thread from the cross-thread index, but only if it was not written since the caller
  saw it empty (its score is unchanged), so a thread being created concurrently is never dropped.

  KEYS[1] threadIndex   ZSET  thread id -> server time (ms) of its last activity

  ARGV[1] threadId      the thread id (raw string)
  ARGV[2] seenScore     the score the caller read ("" removes unconditionally: deleteThread)

  Result: 1 if the entry was removed, 0 otherwise.

  Errors: none.
]]
local threadIndex = KEYS[1]
local threadId, seenScore = ARGV[1], ARGV[2]

if seenScore ~= "" then
  local score = redis.call("ZSCORE", threadIndex, threadId)
  if not score or tonumber(score) ~= tonumber(seenScore) then
    return 0
  end
end
return redis.call("ZREM", threadIndex, threadId)

--[[
  saverForgetThread: removes a thread from its registry bucket (cross-thread index entry, record, index members).
  With a seen score (list() found the thread empty), only if the thread was not written since the caller saw it
  (its score is unchanged) and it has no registry record, or its record has been idle past the TTL (a registered
  thread without checkpoints is kept while it lives: it was created on purpose); without one (deleteThread),
  unconditionally.

  KEYS[1] updated       ZSET  thread id -> server time (ms) of its last activity
  KEYS[2] records       HASH  thread id -> record (include threadRecord)
  KEYS[3] index         ZSET  (scores 0) index members

  ARGV[1] threadId      the thread id (raw string)
  ARGV[2] seenScore     the score the caller read ("" removes unconditionally: deleteThread)
  ARGV[3] ttlMs         the threads' TTL in milliseconds, "0" when threads never expire

  Result: 1 if the thread's cross-thread index entry was removed, 0 otherwise.

  Errors: none.
]]
-- @include threadRecord
-- @include serverTimeMs
local updated, records, index = KEYS[1], KEYS[2], KEYS[3]
local threadId, seenScore, ttlMs = ARGV[1], ARGV[2], tonumber(ARGV[3])

if seenScore ~= "" then
  local score = redis.call("ZSCORE", updated, threadId)
  if not score or tonumber(score) ~= tonumber(seenScore) then
    return 0
  end
  local expired = ttlMs > 0 and tonumber(score) < serverTimeMs() - ttlMs
  if not expired and redis.call("HEXISTS", records, threadId) == 1 then
    return 0
  end
end
return dropRegisteredThread(updated, records, index, threadId)

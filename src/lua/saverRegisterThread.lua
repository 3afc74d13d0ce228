--[[
  saverRegisterThread: creates or updates one thread's entry in the thread registry (one bucket): its record
  (created time, status, metadata), the index members that search ranges over, and its place in the cross-thread
  index. Also drops up to 16 threads of the bucket that have certainly expired (idle longer than ttlMs + graceMs).

  KEYS[1] updated   ZSET  thread id -> server time (ms) of its last write (the cross-thread index)
  KEYS[2] records   HASH  thread id -> record (include threadRecord)
  KEYS[3] index     ZSET  (scores 0) index members, ranged by lex

  ARGV[1] threadId    the thread id (raw string)
  ARGV[2] ttlMs       the threads' TTL in milliseconds, "0" when threads never expire
  ARGV[3] graceMs     extra margin (ms) before a thread idle longer than ttlMs is dropped
  ARGV[4] status      the new status (idle | busy | interrupted | error), "" to keep it ("idle" for a new thread)
  ARGV[5] touch       "1": the thread was written (its updated time moves on); "0": only the record changes (a
                      new thread enters the cross-thread index); "w": the caller's own write script touches the
                      index (put on a standalone server, sent beside this one), so this script leaves it alone:
                      entering the thread here first would make that touch bump its score a millisecond ahead
  ARGV[6] indexed     how many declared (indexed) metadata fields follow, n
  ARGV[7..6+n]        the declared field names
  ARGV[7+n..]         pairs (field, value as JSON); an empty value removes the field

  Result: {record, updatedMs}: the record as stored, and the thread's updated time ("" if it was never written).

  Errors: none.
]]
-- @include threadRecord
-- @include touchThreadIndex
local updated, records, index = KEYS[1], KEYS[2], KEYS[3]
local threadId, ttlMs, graceMs = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local status, touch, indexedCount = ARGV[4], ARGV[5], tonumber(ARGV[6])

local now = serverTimeMs()
local indexed = {}
for i = 7, 6 + indexedCount do
  indexed[ARGV[i]] = true
end

local text = redis.call("HGET", records, threadId)
local record
if text then
  record = parseRecord(text)
  redis.call("ZREM", index, unpack(recordMembers(threadId, record, nil)))
else
  record = { created = string.format("%015d", now), status = "idle", fields = {}, values = {} }
end
if status ~= "" then record.status = status end
for i = 7 + indexedCount, #ARGV - 1, 2 do
  local field, value = ARGV[i], ARGV[i + 1]
  if record.values[field] == nil and value ~= "" then record.fields[#record.fields + 1] = field end
  record.values[field] = value ~= "" and value or nil
end

local isNew = not text
text = encodeRecord(record)
redis.call("HSET", records, threadId, text)
for _, member in ipairs(recordMembers(threadId, record, indexed)) do
  redis.call("ZADD", index, 0, member)
end
if touch == "1" then
  touchThreadIndex(updated, threadId)
elseif isNew and touch == "0" then
  -- A new thread enters the cross-thread index at once (unless its write already put it there), so TTL trimming
  -- also finds threads that were never written.
  redis.call("ZADD", updated, "NX", now, threadId)
end

if ttlMs > 0 then
  local expired = redis.call("ZRANGEBYSCORE", updated, "-inf", "(" .. (now - ttlMs - graceMs), "LIMIT", 0, 16)
  for _, gone in ipairs(expired) do
    dropRegisteredThread(updated, records, index, gone)
  end
end
return { text, redis.call("ZSCORE", updated, threadId) or "" }

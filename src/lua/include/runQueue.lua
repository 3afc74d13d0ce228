-- runQueue: the "enqueue" queue of one run (recoveryEnqueueLease, recoveryReleaseLease). A sorted set orders waiter
-- ids by arrival (INCR of the lease counter); a hash holds each waiter's record as JSON: d keep-alive deadline (ms,
-- server clock), o owner, r run id, l lease ms, and once the lease was handed to it, g its token and e its expiry.
-- queueDropStale(waiters, queue, now, keep) forgets every waiter (queued or handed the lease) whose deadline passed,
-- except `keep`. queueGrantHead(...) hands a free lease to the first live waiter: it leaves the queue, the lease is
-- written as recoveryAcquireLease writes it, and its record keeps the token for the waiter's next look.
local function queueDropStale(waiters, queue, now, keep)
  local all = redis.call('HGETALL', waiters)
  for i = 1, #all, 2 do
    local id, record = all[i], cjson.decode(all[i + 1])
    if id ~= keep and tonumber(record.d) <= now then
      redis.call('ZREM', queue, id)
      redis.call('HDEL', waiters, id)
    end
  end
end

local function queueGrantHead(index, holders, counter, runs, queue, waiters, member, now)
  queueDropStale(waiters, queue, now, nil)
  local head = redis.call('ZRANGE', queue, 0, 0)[1]
  if not head then return nil end
  local record = cjson.decode(redis.call('HGET', waiters, head))
  local token = redis.call('INCR', counter)
  local expiresAt = now + tonumber(record.l)
  redis.call('ZREM', queue, head)
  redis.call('ZADD', index, expiresAt, member)
  redis.call('HSET', holders, member, token .. ':lease:' .. now .. ':' .. record.o)
  redis.call('HSET', runs, member, token .. '::' .. record.r)
  -- Numbers as text: cjson keeps 14 significant digits only.
  record.g, record.e = string.format('%d', token), string.format('%d', expiresAt)
  record.d = record.e
  redis.call('HSET', waiters, head, cjson.encode(record))
  return token
end

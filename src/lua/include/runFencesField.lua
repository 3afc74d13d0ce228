-- runFencesField: writes a field of a thread's runFences hash that is not a lease fence (the history epoch, the blob
-- sweep mark). runFencesFieldSet(runFences, field, value, ttlFrom): HSET; with ttlFrom, the hash gets that key's TTL,
-- so a hash created here does not outlive the thread.
local function runFencesFieldSet(runFences, field, value, ttlFrom)
  redis.call("HSET", runFences, field, value)
  if ttlFrom then
    local ttl = redis.call("PTTL", ttlFrom)
    if ttl > 0 then
      redis.call("PEXPIRE", runFences, ttl)
    end
  end
end

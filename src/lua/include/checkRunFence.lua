-- checkRunFence(runFences, field, token): the lease fence of saverPut and saverPutWrites. A run of a leased graph
-- passes its fence field and lease token; the write may go ahead (nil) unless a newer lease of that field has been
-- recorded on the thread (the run was taken over), whose token is then returned. field "" means "not fenced".
local function checkRunFence(runFences, field, token)
  if field == "" then return nil end
  local newest = tonumber(redis.call("HGET", runFences, field) or "0")
  if tonumber(token) < newest then return newest end
  return nil
end

-- serverTimeMs(): the Redis server clock as whole milliseconds since the Unix epoch (TIME, seconds and microseconds).
-- Every expiry and lease time the scripts compare comes from here, so all of them use the server's clock.
-- serverTimeMsText(): the same as decimal text, built from TIME's digits: for a command argument, which Redis 7.0
-- would otherwise print from a Lua number with snprintf on every call.
local function serverTimeMs()
  local time = redis.call("TIME")
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

local function serverTimeMsText()
  local time = redis.call("TIME")
  local micros = time[2]
  -- The microseconds have six digits once zero-padded; their first three are the milliseconds.
  return time[1] .. string.sub(string.rep("0", 6 - #micros) .. micros, 1, 3)
end

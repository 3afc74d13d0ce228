-- serverTimeMs(): the Redis server clock as whole milliseconds since the Unix epoch (TIME, seconds and microseconds).
-- Every expiry and lease time the scripts compare comes from here, so all of them use the server's clock.
local function serverTimeMs()
  local time = redis.call("TIME")
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

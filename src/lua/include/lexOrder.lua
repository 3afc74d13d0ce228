-- lexBefore(a, b): a < b in byte order, the order ZRANGE BYLEX keeps. Lua's own < compares strings with strcoll,
-- which follows the collation locale the server was started with (Redis sets LC_COLLATE from its environment): under
-- en_US.UTF-8 it skips punctuation, so ids such as "step-10" and "step10" would compare unlike the sorted sets.
local function lexBefore(a, b)
  if a == b then
    return false
  end
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then
      return x < y
    end
  end
  return #a < #b
end

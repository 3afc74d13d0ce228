-- lexBefore(a, b): a < b in byte order, the order ZRANGE BYLEX keeps. Lua's own < compares strings with strcoll,
-- which follows the collation locale the server was started with (Redis sets LC_COLLATE from its environment): under
-- en_US.UTF-8 it skips punctuation, so ids such as "step-10" and "step10" would compare unlike the sorted sets.
local function lexBefore(a, b)
  if a == b then
    return false
  end
  local n = math.min(#a, #b)
  local i = 1
  -- Eight bytes per string.byte call: members share long prefixes (ns\0 and a time-ordered id), and a call per byte
  -- made this loop a visible part of a put.
  while i + 7 <= n do
    local a1, a2, a3, a4, a5, a6, a7, a8 = string.byte(a, i, i + 7)
    local b1, b2, b3, b4, b5, b6, b7, b8 = string.byte(b, i, i + 7)
    if a1 ~= b1 then return a1 < b1 end
    if a2 ~= b2 then return a2 < b2 end
    if a3 ~= b3 then return a3 < b3 end
    if a4 ~= b4 then return a4 < b4 end
    if a5 ~= b5 then return a5 < b5 end
    if a6 ~= b6 then return a6 < b6 end
    if a7 ~= b7 then return a7 < b7 end
    if a8 ~= b8 then return a8 < b8 end
    i = i + 8
  end
  for k = i, n do
    local x, y = string.byte(a, k), string.byte(b, k)
    if x ~= y then
      return x < y
    end
  end
  return #a < #b
end

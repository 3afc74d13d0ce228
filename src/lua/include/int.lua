-- int(n): n as a decimal integer string (Lua's tostring would print large numbers in exponent form).
local function int(n) return string.format("%d", n) end

-- auditOutbox: the audit trail's outbox, for write scripts (opt-in per call). An audited call passes the outbox
-- stream (a key "<prefix>|audit:{tag}:outbox" in the write's slot) as its LAST key and the event context (JSON built by
-- the client: who, which thread or item, ...) as its LAST argument. This include must come before the script reads
-- KEYS or ARGV: it takes both off, so the script sees exactly the keys and arguments it gets without audit.
-- auditEvent(kind, field, value, ...) then appends one entry to the stream, in the same script as the write, so the
-- event exists if and only if the write happened. Without an outbox key it does nothing.
-- @include serverTimeMs
local AUDIT_STREAM, AUDIT_CONTEXT = nil, nil
-- The plain search of the last 7 bytes first: most calls are not audited, and the pattern would try every position.
if #KEYS > 0 and string.find(KEYS[#KEYS], ":outbox", -7, true) and string.match(KEYS[#KEYS], "|audit:{[^{}]*}:outbox$") then
  AUDIT_STREAM, AUDIT_CONTEXT = KEYS[#KEYS], ARGV[#ARGV]
  KEYS[#KEYS] = nil
  ARGV[#ARGV] = nil
end

local function auditEvent(kind, ...)
  if AUDIT_STREAM == nil then return end
  local atMs = string.format("%d", serverTimeMs())
  redis.call("XADD", AUDIT_STREAM, "*", "kind", kind, "atMs", atMs, "ctx", AUDIT_CONTEXT, ...)
end

-- upgradeLegacyLayout(): converts what earlier releases stored for a thread and this one no longer writes, so it
-- stops costing memory. Run by saverPut when the client asks (the first put of a thread in its process), not on
-- every write: each check is a command. Expects the thread's keys in KEYS[1..8] (the saver's order).
--   KEYS[4] byId: a second checkpoint index (id\0ns); list() across namespaces reads byNamespace now.
local function upgradeLegacyLayout()
  redis.call("DEL", KEYS[4])
end

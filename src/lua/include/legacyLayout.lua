-- upgradeLegacyLayout(byId): converts what earlier releases stored for a thread and this one no longer writes, so it
-- stops costing memory. Run by saverPut and saverPutCompact when the client asks (the first put of a thread in its
-- process), not on every write: each check is a command; and by saverPrune.
--   byId: the thread's second checkpoint index (id\0ns, the saver's KEYS[4]); list() across namespaces reads
--   byNamespace now.
local function upgradeLegacyLayout(byId)
  redis.call("DEL", byId)
end

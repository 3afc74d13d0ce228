--[[
auditRecord: appends one audit event that goes with no write of its own: a decision the client observed (a lock
found lost, a fenced write refused before its script ran on a cluster, a lease lost). Audited calls only.

KEYS[1]  outbox stream (taken off by include auditOutbox)

ARGV[1]  event kind
ARGV[2]  event context, JSON (taken off by include auditOutbox)

Result: 1.

Errors: none.
]]
-- @include auditOutbox

auditEvent(ARGV[1])
return 1

import { callScript, type ReplyOf } from "../../lua/index.js";
import { redisCall } from "../../redis-call.js";
import type { LeaseScope } from "./lease-scope.js";

export type HeartbeatResult = ReplyOf<"recoveryHeartbeatLease">;

/**
 * Extends the lease held under `token` by `leaseMs` from now (putting the entry back under `owner` if a search
 * removed it as stale); fails once another token holds the run.
 */
export function renewLease(
  scope: LeaseScope,
  member: string,
  token: number,
  leaseMs: number,
  owner: string,
): Promise<HeartbeatResult> {
  return redisCall(scope, { operation: "withRunLease: renew a run lease", write: true }, (client) =>
    callScript(client, "recoveryHeartbeatLease", scope.keys, [member, String(token), leaseMs, owner]),
  );
}

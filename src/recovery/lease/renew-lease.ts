import { callScript, type ReplyOf } from "../../lua/index.js";
import { redisCall } from "../../redis-call.js";
import type { LeaseScope } from "./lease-scope.js";

export type HeartbeatResult = ReplyOf<"recoveryHeartbeatLease">;

/**
 * Extends the lease held under `token` by `leaseMs` from now; fails once another token holds the run or its entry
 * is gone (released by a recoverer that finished the run, or removed as stale): it is never put back.
 */
export function renewLease(
  scope: LeaseScope,
  member: string,
  token: number,
  leaseMs: number,
): Promise<HeartbeatResult> {
  return redisCall(scope, { operation: "withRunLease: renew a run lease", write: true }, (client) =>
    callScript(client, "recoveryHeartbeatLease", scope.keysOf(member), [member, String(token), leaseMs]),
  );
}

import { callScript, type ReplyOf } from "../../lua/index.js";
import { redisCall } from "../../redis-call.js";
import type { LeaseScope } from "./lease-scope.js";

export type AcquireResult = ReplyOf<"recoveryAcquireLease">;

/**
 * Takes the lease of one run for `owner` (one round trip). With `claimToken`, converts the caller's claim into the
 * lease instead, and fails with "claim-lost" when the run is no longer held under that claim.
 */
export function acquireLease(
  scope: LeaseScope,
  member: string,
  owner: string,
  leaseMs: number,
  claimToken = 0,
): Promise<AcquireResult> {
  return redisCall(scope, { operation: "withRunLease: take a run lease", write: true }, (client) =>
    callScript(client, "recoveryAcquireLease", scope.keys, [member, owner, leaseMs, String(claimToken)]),
  );
}

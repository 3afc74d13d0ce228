import { callScript, type ReplyOf } from "../../lua/index.js";
import { redisCall } from "../../redis-call.js";
import { auditedLeaseCall, type LeaseScope } from "./lease-scope.js";

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
  runId = "",
): Promise<AcquireResult> {
  return redisCall(scope, { operation: "withRunLease: take a run lease", write: true }, async (client) => {
    const args: [string, string, number, string, string] = [member, owner, leaseMs, String(claimToken), runId];
    const call = await auditedLeaseCall(scope, args, member, owner);
    return callScript(client, "recoveryAcquireLease", call.keys, call.args);
  });
}

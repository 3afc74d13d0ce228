import { callScript, type ReplyOf } from "../../lua/index.js";
import { redisCall } from "../../redis-call.js";
import type { LeaseScope } from "./lease-scope.js";

export type ClaimResult = ReplyOf<"recoveryClaimRun">;

/**
 * Claims a crashed run for one recoverer, atomically: only while the run is still held under `expectedToken` (the
 * expired lease the recoverer found) and that entry has expired. The claim has its own expiry (`claimMs`).
 */
export function claimRun(
  scope: LeaseScope,
  member: string,
  expectedToken: number,
  claimer: string,
  claimMs: number,
): Promise<ClaimResult> {
  return redisCall(scope, { operation: "resumeCrashedRuns: claim a crashed run", write: true }, (client) =>
    callScript(client, "recoveryClaimRun", scope.keys, [member, String(expectedToken), claimer, claimMs]),
  );
}

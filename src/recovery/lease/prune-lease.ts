import { callScript, type ReplyOf } from "../../lua/index.js";
import { redisCall } from "../../redis-call.js";
import type { LeaseScope } from "./lease-scope.js";

export type PruneResult = ReplyOf<"recoveryPruneLease">;

/** Removes an expired entry that has nothing left to resume, if it is still expired and held under `token`. */
export function pruneLease(scope: LeaseScope, member: string, token: number): Promise<PruneResult> {
  return redisCall(scope, { operation: "findCrashedRuns: remove a stale lease", write: true }, (client) =>
    callScript(client, "recoveryPruneLease", scope.keysOf(member), [member, String(token)]),
  );
}

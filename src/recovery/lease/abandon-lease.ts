import { callScript } from "../../lua/index.js";
import { redisCall } from "../../redis-call.js";
import type { LeaseScope } from "./lease-scope.js";

/**
 * Marks the run held under `token` as crashed now (its entry expires at once, and is put back if it was removed),
 * so recovery picks it up without waiting; returns false when another token holds the run.
 */
export function abandonLease(scope: LeaseScope, member: string, token: number, owner: string): Promise<boolean> {
  return redisCall(scope, { operation: "withRunLease: mark a lost run lease expired", write: true }, (client) =>
    callScript(client, "recoveryAbandonLease", scope.keysOf(member), [member, String(token), owner]),
  );
}

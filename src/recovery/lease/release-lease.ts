import { callScript } from "../../lua/index.js";
import { redisCall } from "../../redis-call.js";
import type { LeaseScope } from "./lease-scope.js";

/**
 * Removes the run from the lease index if it is still held under `token`, handing the lease to the first waiter of
 * the run's "enqueue" queue if there is one; returns whether it was held under `token`.
 */
export function releaseLease(scope: LeaseScope, member: string, token: number): Promise<boolean> {
  return redisCall(scope, { operation: "withRunLease: release a run lease", write: true }, (client) =>
    callScript(client, "recoveryReleaseLease", { ...scope.keysOf(member), ...scope.queueKeysOf(member) }, [
      member,
      String(token),
    ]),
  );
}

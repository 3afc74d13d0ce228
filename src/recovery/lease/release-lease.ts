import { callScript } from "../../lua/index.js";
import { redisCall } from "../../redis-call.js";
import type { LeaseScope } from "./lease-scope.js";

/** Removes the run from the lease index if it is still held under `token`; returns whether it was. */
export function releaseLease(scope: LeaseScope, member: string, token: number): Promise<boolean> {
  return redisCall(scope, { operation: "withRunLease: release a run lease", write: true }, (client) =>
    callScript(client, "recoveryReleaseLease", scope.keysOf(member), [member, String(token)]),
  );
}

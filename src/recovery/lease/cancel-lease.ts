import { callScript, type ReplyOf } from "../../lua/index.js";
import { redisCall } from "../../redis-call.js";
import type { LeaseScope } from "./lease-scope.js";

export type CancelResult = ReplyOf<"recoveryCancelRun">;

/**
 * Asks the run holding `member` to stop (recorded beside its lease), or stops it here when its lease has expired.
 * With `expectedToken`, only the run under that token (so a run started since is never touched).
 */
export function cancelLeasedRun(
  scope: LeaseScope,
  member: string,
  action: "interrupt" | "rollback",
  expectedToken: string,
): Promise<CancelResult> {
  return redisCall(scope, { operation: "cancelRun: ask a run to stop", write: true }, (client) =>
    callScript(client, "recoveryCancelRun", scope.keysOf(member), [member, action, expectedToken]),
  );
}

import { callScript, type ReplyOf } from "../../lua/index.js";
import { redisCall } from "../../redis-call.js";
import { auditedLeaseCall, type LeaseScope } from "./lease-scope.js";

export type EnqueueResult = ReplyOf<"recoveryEnqueueLease">;

/**
 * One step of the "enqueue" strategy (one round trip): joins (or keeps) the caller's place in the run's queue and
 * takes the lease when it is free and the caller is at the head; with mode "leave", leaves the queue.
 */
export function enqueueLease(
  scope: LeaseScope,
  member: string,
  step: { owner: string; leaseMs: number; runId: string; waiterId: string; staleMs: number; mode: "wait" | "leave" },
): Promise<EnqueueResult> {
  const operation = step.mode === "wait" ? "withRunLease: wait for a run lease" : "withRunLease: leave a run queue";
  return redisCall(scope, { operation, write: true }, async (client) => {
    const args: [string, string, number, string, string, number, "wait" | "leave"] = [
      member,
      step.owner,
      step.leaseMs,
      step.runId,
      step.waiterId,
      step.staleMs,
      step.mode,
    ];
    const call = await auditedLeaseCall(scope, args, member, step.owner);
    const keys = { ...call.keys, ...scope.queueKeysOf(member) };
    return callScript(client, "recoveryEnqueueLease", keys, call.args);
  });
}

import { callScript, type ReplyOf } from "../../lua/index.js";
import { redisCall } from "../../redis-call.js";
import type { LeaseScope } from "./lease-scope.js";

export type { ExpiredLease } from "../../lua/catalogue.js";

/**
 * Reads up to `limit` expired entries of the lease index, oldest expiry first, and the server time of the read.
 * One round trip; the cost grows with the entries returned, never with the number of threads.
 */
export function listExpiredLeases(scope: LeaseScope, limit: number): Promise<ReplyOf<"recoveryExpiredLeases">> {
  return redisCall(scope, { operation: "findCrashedRuns: list expired leases", write: false }, (client) =>
    callScript(client, "recoveryExpiredLeases", scope.keys, [limit]),
  );
}

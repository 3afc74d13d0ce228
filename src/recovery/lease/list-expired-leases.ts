import { type ReplyOf, scriptCall } from "../../lua/index.js";
import { runRouted } from "../../routing.js";
import type { LeaseKeys, LeaseScope } from "./lease-scope.js";

export type { ExpiredLease } from "../../lua/catalogue.js";

/**
 * Reads up to `limit` expired entries of the lease index, oldest expiry first, and the server time of the read.
 * One script per bucket of the index, pipelined (one round trip per server), merged by expiry; the cost grows with
 * the entries returned, never with the number of threads. `leftAlone`: members the caller skips (a recovery worker's
 * runs it cannot serve for now), read past so that they do not hide the entries after them.
 */
export async function listExpiredLeases(
  scope: LeaseScope,
  limit: number,
  leftAlone: ReadonlySet<string> = new Set(),
): Promise<ReplyOf<"recoveryExpiredLeases">> {
  // Each bucket reads past the members left alone that live in it.
  const skipped = new Map<LeaseKeys, number>();
  for (const member of leftAlone) {
    const keys = scope.keysOf(member);
    skipped.set(keys, (skipped.get(keys) ?? 0) + 1);
  }
  const replies = await runRouted(
    scope,
    scope.buckets.map((keys) => scriptCall("recoveryExpiredLeases", keys, [limit + (skipped.get(keys) ?? 0)])),
    { operation: "findCrashedRuns: list expired leases", write: false },
  );
  const leases = replies.flatMap((reply) => reply?.leases ?? []).filter((lease) => !leftAlone.has(lease.member));
  leases.sort((a, b) => a.expiredAtMs - b.expiredAtMs || (a.member < b.member ? -1 : a.member > b.member ? 1 : 0));
  const nowMs = Math.max(0, ...replies.map((reply) => reply?.nowMs ?? 0));
  return { nowMs, leases: leases.slice(0, limit) };
}

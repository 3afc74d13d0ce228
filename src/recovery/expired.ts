import { CorruptDataError } from "../errors.js";
import { parseRunLeaseMember } from "../keys.js";
import { withNamedRedisErrors } from "../redis-errors.js";
import { runScript } from "../scripts/index.js";
import { type LeaseHolder, parseHolder } from "./holder.js";
import { type LeaseScope, leaseKeys } from "./scope.js";

/** One entry of the lease index whose lease or claim has expired. */
export interface ExpiredLease {
  readonly member: string;
  readonly threadId: string;
  readonly checkpointNs: string;
  /** When the lease (or claim) expired: Unix ms, Redis server clock. */
  readonly expiredAtMs: number;
  readonly holder: LeaseHolder;
}

/**
 * Reads up to `limit` expired entries of the lease index, oldest expiry first, and the server time of the read.
 * One round trip; the cost grows with the entries returned, never with the number of threads.
 */
export async function listExpiredLeases(
  scope: LeaseScope,
  limit: number,
): Promise<{ nowMs: number; leases: ExpiredLease[] }> {
  const keys = leaseKeys(scope);
  const reply = (await withNamedRedisErrors("findCrashedRuns: list expired leases", false, () =>
    runScript(scope.client, "recoveryExpiredLeases", [keys.index, keys.holders], [limit]),
  )) as unknown[];
  const nowMs = Number(reply[0]);
  const leases: ExpiredLease[] = [];
  for (let i = 1; i + 2 < reply.length; i += 3) {
    const member = String(reply[i]);
    const holderText = String(reply[i + 2] ?? "");
    const run = parseRunLeaseMember(member);
    if (!run) throw new CorruptDataError(keys.index, "an index member is not a run member (<thread>:<namespace>)");
    if (holderText === "") continue; // both are written by one script; a missing holder is not a lease
    leases.push({ member, ...run, expiredAtMs: Number(reply[i + 1]), holder: parseHolder(holderText, keys.holders) });
  }
  return { nowMs, leases };
}

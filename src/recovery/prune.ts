import { withNamedRedisErrors } from "../redis-errors.js";
import { runScript } from "../scripts/index.js";
import { type LeaseScope, leaseKeys } from "./scope.js";

export type PruneResult = "removed" | "changed" | "renewed";

/** Removes an expired entry that has nothing left to resume, if it is still expired and held under `token`. */
export async function pruneLease(scope: LeaseScope, member: string, token: number): Promise<PruneResult> {
  const keys = leaseKeys(scope);
  const reply = await withNamedRedisErrors("findCrashedRuns: remove a stale lease", true, () =>
    runScript(scope.client, "recoveryPruneLease", [keys.index, keys.holders], [member, String(token)]),
  );
  return reply === 1 ? "removed" : reply === -1 ? "renewed" : "changed";
}

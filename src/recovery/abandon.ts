import { withNamedRedisErrors } from "../redis-errors.js";
import { runScript } from "../scripts/index.js";
import { type LeaseScope, leaseKeys } from "./scope.js";

/**
 * Marks the run held under `token` as crashed now (its entry expires at once, and is put back if it was removed),
 * so recovery picks it up without waiting; returns false when another token holds the run.
 */
export async function abandonLease(scope: LeaseScope, member: string, token: number, owner: string): Promise<boolean> {
  const keys = leaseKeys(scope);
  const reply = await withNamedRedisErrors("withRunLease: mark a lost run lease expired", true, () =>
    runScript(scope.client, "recoveryAbandonLease", [keys.index, keys.holders], [member, String(token), owner]),
  );
  return reply === 1;
}

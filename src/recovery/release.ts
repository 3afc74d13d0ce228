import { withNamedRedisErrors } from "../redis-errors.js";
import { runScript } from "../scripts/index.js";
import { type LeaseScope, leaseKeys } from "./scope.js";

/** Removes the run from the lease index if it is still held under `token`; returns whether it was. */
export async function releaseLease(scope: LeaseScope, member: string, token: number): Promise<boolean> {
  const keys = leaseKeys(scope);
  const reply = await withNamedRedisErrors("withRunLease: release a run lease", true, () =>
    runScript(scope.client, "recoveryReleaseLease", [keys.index, keys.holders], [member, String(token)]),
  );
  return reply === 1;
}

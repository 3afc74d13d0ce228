import { withNamedRedisErrors } from "../redis-errors.js";
import { runScript } from "../scripts/index.js";
import { type LeaseHolder, parseOptionalHolder } from "./holder.js";
import { type LeaseScope, leaseKeys } from "./scope.js";

export type HeartbeatResult =
  | { readonly renewed: true; readonly expiresAtMs: number }
  | { readonly renewed: false; readonly holder?: LeaseHolder };

/**
 * Extends the lease held under `token` by `leaseMs` from now; fails once another token holds the run or its entry
 * is gone (released by a recoverer that finished the run, or removed as stale): it is never put back.
 */
export async function renewLease(
  scope: LeaseScope,
  member: string,
  token: number,
  leaseMs: number,
): Promise<HeartbeatResult> {
  const keys = leaseKeys(scope);
  const reply = (await withNamedRedisErrors("withRunLease: renew a run lease", true, () =>
    runScript(scope.client, "recoveryHeartbeatLease", [keys.index, keys.holders], [member, String(token), leaseMs]),
  )) as [number, unknown];
  if (reply[0] === 1) return { renewed: true, expiresAtMs: Number(reply[1]) };
  const holder = parseOptionalHolder(reply[1], keys.holders);
  return { renewed: false, ...(holder ? { holder } : {}) };
}

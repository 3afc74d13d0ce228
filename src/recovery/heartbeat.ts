import { withNamedRedisErrors } from "../redis-errors.js";
import { runScript } from "../scripts/index.js";
import { type LeaseHolder, parseOptionalHolder } from "./holder.js";
import { type LeaseScope, leaseKeys } from "./scope.js";

export type HeartbeatResult =
  | { readonly renewed: true; readonly expiresAtMs: number; readonly reinstated: boolean }
  | { readonly renewed: false; readonly holder?: LeaseHolder };

/**
 * Extends the lease held under `token` by `leaseMs` from now (putting the entry back under `owner` if a search
 * removed it as stale); fails once another token holds the run.
 */
export async function renewLease(
  scope: LeaseScope,
  member: string,
  token: number,
  leaseMs: number,
  owner: string,
): Promise<HeartbeatResult> {
  const keys = leaseKeys(scope);
  const reply = (await withNamedRedisErrors("withRunLease: renew a run lease", true, () =>
    runScript(
      scope.client,
      "recoveryHeartbeatLease",
      [keys.index, keys.holders],
      [member, String(token), leaseMs, owner],
    ),
  )) as [number, unknown];
  if (reply[0] === 1 || reply[0] === 2) {
    return { renewed: true, expiresAtMs: Number(reply[1]), reinstated: reply[0] === 2 };
  }
  const holder = parseOptionalHolder(reply[1], keys.holders);
  return { renewed: false, ...(holder ? { holder } : {}) };
}

import { withNamedRedisErrors } from "../redis-errors.js";
import { runScript } from "../scripts/index.js";
import { type LeaseHolder, parseOptionalHolder } from "./holder.js";
import { type LeaseScope, leaseKeys, leaseScriptCall } from "./scope.js";

export type AcquireResult =
  | { readonly acquired: true; readonly token: number; readonly expiresAtMs: number; readonly replaced?: LeaseHolder }
  | { readonly acquired: false; readonly reason: "held"; readonly holder?: LeaseHolder; readonly expiresAtMs: number }
  | { readonly acquired: false; readonly reason: "claim-lost"; readonly holder?: LeaseHolder };

/**
 * Takes the lease of one run for `owner` (one round trip). With `claimToken`, converts the caller's claim into the
 * lease instead, and fails with "claim-lost" when the run is no longer held under that claim.
 */
export async function acquireLease(
  scope: LeaseScope,
  member: string,
  owner: string,
  leaseMs: number,
  claimToken = 0,
): Promise<AcquireResult> {
  const keys = leaseKeys(scope);
  const reply = (await withNamedRedisErrors("withRunLease: take a run lease", true, async () => {
    const [scriptKeys, args] = await leaseScriptCall(
      scope,
      [keys.index, keys.holders, keys.counter],
      [member, owner, leaseMs, String(claimToken)],
      member,
      owner,
    );
    return runScript(scope.client, "recoveryAcquireLease", scriptKeys, args);
  })) as [number, unknown, unknown?, unknown?];
  const [code] = reply;
  if (code === 1) {
    const replaced = parseOptionalHolder(reply[3], keys.holders);
    return {
      acquired: true,
      token: Number(reply[1]),
      expiresAtMs: Number(reply[2]),
      ...(replaced ? { replaced } : {}),
    };
  }
  const holder = parseOptionalHolder(reply[1], keys.holders);
  if (code === -1) {
    return { acquired: false, reason: "held", expiresAtMs: Number(reply[2]), ...(holder ? { holder } : {}) };
  }
  return { acquired: false, reason: "claim-lost", ...(holder ? { holder } : {}) };
}

import { withNamedRedisErrors } from "../redis-errors.js";
import { runScript } from "../scripts/index.js";
import { type LeaseHolder, parseOptionalHolder } from "./holder.js";
import { type LeaseScope, leaseKeys, leaseScriptCall } from "./scope.js";

export type ClaimResult =
  | { readonly claimed: true; readonly token: number; readonly expiresAtMs: number }
  | { readonly claimed: false; readonly reason: "gone" }
  | { readonly claimed: false; readonly reason: "taken"; readonly holder?: LeaseHolder }
  | { readonly claimed: false; readonly reason: "alive"; readonly holder?: LeaseHolder; readonly expiresAtMs: number };

/**
 * Claims a crashed run for one recoverer, atomically: only while the run is still held under `expectedToken` (the
 * expired lease the recoverer found) and that entry has expired. The claim has its own expiry (`claimMs`).
 */
export async function claimRun(
  scope: LeaseScope,
  member: string,
  expectedToken: number,
  claimer: string,
  claimMs: number,
): Promise<ClaimResult> {
  const keys = leaseKeys(scope);
  const reply = (await withNamedRedisErrors("resumeCrashedRuns: claim a crashed run", true, async () => {
    const [scriptKeys, args] = await leaseScriptCall(
      scope,
      [keys.index, keys.holders, keys.counter],
      [member, String(expectedToken), claimer, claimMs],
      member,
      claimer,
    );
    return runScript(scope.client, "recoveryClaimRun", scriptKeys, args);
  })) as [number, unknown, unknown?];
  const [code] = reply;
  if (code === 1) return { claimed: true, token: Number(reply[1]), expiresAtMs: Number(reply[2]) };
  if (code === 0) return { claimed: false, reason: "gone" };
  const holder = parseOptionalHolder(reply[1], keys.holders);
  if (code === -1) return { claimed: false, reason: "taken", ...(holder ? { holder } : {}) };
  return { claimed: false, reason: "alive", expiresAtMs: Number(reply[2]), ...(holder ? { holder } : {}) };
}

/**
 * The lease scripts on real Redis (standalone and cluster): each success path and each failure code.
 */
import { runLeaseMember } from "../../src/keys.js";
import { abandonLease } from "../../src/recovery/lease/abandon-lease.js";
import { acquireLease } from "../../src/recovery/lease/acquire-lease.js";
import { claimRun } from "../../src/recovery/lease/claim-run.js";
import { type LeaseScope, openLeaseScope } from "../../src/recovery/lease/lease-scope.js";
import { listExpiredLeases } from "../../src/recovery/lease/list-expired-leases.js";
import { pruneLease } from "../../src/recovery/lease/prune-lease.js";
import { releaseLease } from "../../src/recovery/lease/release-lease.js";
import { renewLease } from "../../src/recovery/lease/renew-lease.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { waitUntil } from "./helpers.js";

describe.each(targets)("lease scripts on $name", ({ connect }) => {
  let scope: LeaseScope;
  const member = runLeaseMember("thread:{1}", "");
  beforeEach(() => {
    scope = openLeaseScope({ client: connect(), keyPrefix: testPrefix("rec"), graphName: "g" });
  });

  const expire = async (ms = 120) => {
    // Leases are timed by the server clock: wait until this one is reported expired.
    await waitUntil(async () => (await listExpiredLeases(scope, 10)).leases.some((l) => l.member === member), ms);
  };

  it("acquire stores the lease in the index with its holder and a fresh token", async () => {
    const first = await acquireLease(scope, member, "owner/1", 10_000);
    expect(first).toMatchObject({ acquired: true, token: 1 });
    if (!first.acquired) throw new Error("unreachable");
    const score = await scope.client.zscore(scope.keysOf(member).index, member);
    expect(Number(score)).toBe(first.expiresAtMs);
    const holder = await scope.client.hget(scope.keysOf(member).holders, member);
    expect(holder).toMatch(/^1:lease:\d+:owner\/1$/);
    expect(await scope.client.get(scope.keysOf(member).counter)).toBe("1");
  });

  it("acquire fails with the holder while a live lease exists, and takes over an expired one", async () => {
    await acquireLease(scope, member, "first", 100);
    const held = await acquireLease(scope, member, "second", 10_000);
    expect(held).toMatchObject({ acquired: false, reason: "held", holder: { owner: "first", kind: "lease" } });
    await expire();
    const taken = await acquireLease(scope, member, "second", 10_000);
    expect(taken).toMatchObject({ acquired: true, token: 2, replaced: { owner: "first", token: 1 } });
  });

  it("heartbeat extends the caller's lease, even late, and fails once another token holds it", async () => {
    const lease = await acquireLease(scope, member, "me", 100);
    if (!lease.acquired) throw new Error("unreachable");
    await expire();
    const late = await renewLease(scope, member, lease.token, 10_000);
    expect(late).toMatchObject({ renewed: true });
    expect((await listExpiredLeases(scope, 10)).leases).toHaveLength(0);
    expect(await renewLease(scope, member, lease.token + 100, 10_000)).toMatchObject({
      renewed: false,
      holder: { owner: "me", token: lease.token },
    });
  });

  it("heartbeat never puts back an entry that is gone (removed as stale, or released by a recoverer)", async () => {
    const holdersKey = scope.keysOf(member).holders;
    const indexKey = scope.keysOf(member).index;
    const lease = await acquireLease(scope, member, "me", 100);
    if (!lease.acquired) throw new Error("unreachable");
    await expire();
    expect(await pruneLease(scope, member, lease.token)).toBe("removed");
    const pruned = await renewLease(scope, member, lease.token, 10_000);
    expect(pruned).toEqual({ renewed: false });
    expect(await scope.client.hget(holdersKey, member)).toBeNull();
    expect(await scope.client.zscore(indexKey, member)).toBeNull();

    // The case: a recoverer claims the expired lease, resumes the run under a lease, finishes, releases.
    const second = await acquireLease(scope, member, "me", 100);
    if (!second.acquired) throw new Error("unreachable");
    await expire();
    const claim = await claimRun(scope, member, second.token, "recoverer", 10_000);
    if (!claim.claimed) throw new Error("unreachable");
    const resumed = await acquireLease(scope, member, "recoverer", 10_000, claim.token);
    if (!resumed.acquired) throw new Error("unreachable");
    expect(await renewLease(scope, member, second.token, 10_000)).toMatchObject({
      renewed: false,
      holder: { owner: "recoverer", kind: "lease", token: resumed.token },
    });
    expect(await releaseLease(scope, member, resumed.token)).toBe(true);
    expect(await renewLease(scope, member, second.token, 10_000)).toEqual({ renewed: false });
    expect(await scope.client.hget(holdersKey, member)).toBeNull();
    expect(await scope.client.zscore(indexKey, member)).toBeNull();
  });

  it("abandon expires the caller's entry at once (putting it back if removed), never another holder's", async () => {
    const lease = await acquireLease(scope, member, "me", 60_000);
    if (!lease.acquired) throw new Error("unreachable");
    expect(await abandonLease(scope, member, lease.token, "me")).toBe(true);
    expect((await listExpiredLeases(scope, 10)).leases).toMatchObject([{ holder: { owner: "me" } }]);
    expect(await releaseLease(scope, member, lease.token)).toBe(true);
    expect(await abandonLease(scope, member, lease.token, "me")).toBe(true);
    expect((await listExpiredLeases(scope, 10)).leases).toMatchObject([{ holder: { token: lease.token } }]);
    const claim = await claimRun(scope, member, lease.token, "r1", 60_000);
    expect(claim.claimed).toBe(true);
    expect(await abandonLease(scope, member, lease.token, "me")).toBe(false);
    expect((await listExpiredLeases(scope, 10)).leases).toEqual([]);
  });

  it("release removes only the caller's lease", async () => {
    const lease = await acquireLease(scope, member, "me", 10_000);
    if (!lease.acquired) throw new Error("unreachable");
    expect(await releaseLease(scope, member, lease.token + 1)).toBe(false);
    expect(await scope.client.zcard(scope.keysOf(member).index)).toBe(1);
    expect(await releaseLease(scope, member, lease.token)).toBe(true);
    expect(await scope.client.zcard(scope.keysOf(member).index)).toBe(0);
    expect(await scope.client.hlen(scope.keysOf(member).holders)).toBe(0);
    expect(await releaseLease(scope, member, lease.token)).toBe(false);
  });

  it("lists only expired entries, oldest first, up to the limit", async () => {
    for (const thread of ["a", "b", "c"]) await acquireLease(scope, runLeaseMember(thread, "ns:x"), `o-${thread}`, 100);
    await acquireLease(scope, runLeaseMember("live", ""), "live", 60_000);
    await waitUntil(async () => (await listExpiredLeases(scope, 10)).leases.length === 3, 120);
    const { nowMs, leases } = await listExpiredLeases(scope, 2);
    expect(leases).toHaveLength(2);
    expect(leases[0]).toMatchObject({ threadId: "a", checkpointNs: "ns:x", holder: { owner: "o-a" } });
    expect(leases[0]?.expiredAtMs).toBeLessThanOrEqual(leases[1]?.expiredAtMs ?? 0);
    expect(leases.every((l) => l.expiredAtMs <= nowMs)).toBe(true);
  });

  it("claim succeeds once for an expired lease under the expected token", async () => {
    const lease = await acquireLease(scope, member, "dead", 100);
    if (!lease.acquired) throw new Error("unreachable");
    expect(await claimRun(scope, member, lease.token, "r1", 10_000)).toMatchObject({
      claimed: false,
      reason: "alive",
    });
    await expire();
    const claims = await Promise.all(["r1", "r2", "r3"].map((r) => claimRun(scope, member, lease.token, r, 10_000)));
    expect(claims.filter((c) => c.claimed)).toHaveLength(1);
    expect(claims.filter((c) => !c.claimed && c.reason === "taken")).toHaveLength(2);
    const holder = await scope.client.hget(scope.keysOf(member).holders, member);
    expect(holder).toMatch(/^2:claim:\d+:r[123]$/);
  });

  it("claim reports a gone entry", async () => {
    expect(await claimRun(scope, member, 1, "r1", 10_000)).toEqual({ claimed: false, reason: "gone" });
  });

  it("a claim expires like a lease, and converts into a lease only for its holder", async () => {
    const lease = await acquireLease(scope, member, "dead", 100);
    if (!lease.acquired) throw new Error("unreachable");
    await expire();
    const claim = await claimRun(scope, member, lease.token, "r1", 100);
    if (!claim.claimed) throw new Error("unreachable");
    expect(await acquireLease(scope, member, "r2", 10_000, claim.token + 7)).toMatchObject({
      acquired: false,
      reason: "claim-lost",
    });
    await expire();
    const expired = (await listExpiredLeases(scope, 10)).leases[0];
    expect(expired?.holder).toMatchObject({ kind: "claim", owner: "r1", token: claim.token });
    const converted = await acquireLease(scope, member, "r1", 10_000, claim.token);
    expect(converted).toMatchObject({ acquired: true, token: claim.token + 1 });
    expect(await acquireLease(scope, member, "r1", 10_000, claim.token)).toMatchObject({ reason: "claim-lost" });
  });

  it("prune removes an expired entry only under the inspected token", async () => {
    const lease = await acquireLease(scope, member, "dead", 100);
    if (!lease.acquired) throw new Error("unreachable");
    expect(await pruneLease(scope, member, lease.token)).toBe("renewed");
    await expire();
    expect(await pruneLease(scope, member, lease.token + 1)).toBe("changed");
    expect(await pruneLease(scope, member, lease.token)).toBe("removed");
    expect(await scope.client.zcard(scope.keysOf(member).index)).toBe(0);
    expect(await pruneLease(scope, member, lease.token)).toBe("changed");
  });
});

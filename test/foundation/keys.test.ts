import fc from "fast-check";
import { aclRules } from "../../src/acl.js";
import {
  decodeKeyPart,
  encodeKeyPart,
  expectedKeyType,
  fenceCounterKey,
  hashTag,
  keyPrefixStart,
  lockKey,
  runLeaseHoldersKey,
  runLeaseIndexKey,
  runLeaseMember,
  runLeaseQueueKey,
  runLeaseRunsKey,
  runLeaseTokenKey,
  runLeaseWaitersKey,
  STORE_REGISTRY_BUCKETS,
  saverThreadIndexKey,
  saverThreadKeys,
  storeItemKeys,
  storeNamespaceKeys,
  storeRegistryBucket,
  storeRegistryKeys,
  storeRegistrySequenceKey,
  threadRegistryKeys,
} from "../../src/keys.js";
import { keyPrefixSchema } from "../../src/options.js";
import { keySlot } from "../../src/routing.js";

/** Every kind of key the library builds under `prefix` (one of each). */
function keysUnder(prefix: string, part: string): string[] {
  return [
    ...saverThreadKeys(prefix, part).all,
    saverThreadIndexKey(prefix),
    ...Object.values(storeNamespaceKeys(prefix, [part])),
    ...Object.values(storeItemKeys(prefix, [part], part)),
    ...Object.values(storeRegistryKeys(prefix, 0)),
    storeRegistrySequenceKey(prefix),
    lockKey(prefix, part),
    fenceCounterKey(prefix, part),
    runLeaseIndexKey(prefix, part, 3),
    ...Object.values(threadRegistryKeys(prefix, 5)),
  ];
}

/** The glob of an ACL key pattern, as Redis matches it (escapes, `*`, `?`). */
function globMatches(pattern: string, key: string): boolean {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === "\\") source += (pattern[++i] ?? "").replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    else if (ch === "*") source += "[\\s\\S]*";
    else if (ch === "?") source += "[\\s\\S]";
    else source += ch.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`).test(key);
}

describe("key parts", () => {
  it("round-trip any string, and never contain braces or colons once encoded", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (part) => {
        const encoded = encodeKeyPart(part);
        expect(encoded).not.toMatch(/[{}:]/);
        expect(decodeKeyPart(encoded)).toBe(part);
      }),
      { numRuns: 2000 },
    );
  });

  it("keep distinct inputs distinct", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        fc.pre(a !== b);
        expect(encodeKeyPart(a)).not.toBe(encodeKeyPart(b));
      }),
    );
  });

  it("build a hash tag with exactly one opening and one closing brace", () => {
    const tag = hashTag("tenant:a", "{thread}");
    expect(tag).toBe("{tenant%3Aa:%7Bthread%7D}");
  });
});

describe("key prefixes", () => {
  const validPrefix = fc
    .stringMatching(/^[a-z:*?[\]\\-]{1,8}$/)
    .filter((prefix) => keyPrefixSchema.safeParse(prefix).success);

  it("keep the keys of any two prefixes apart, also when one prefix starts with the other (pa, pa:b)", () => {
    fc.assert(
      fc.property(validPrefix, validPrefix, fc.string(), (a, b, part) => {
        fc.pre(a !== b);
        for (const key of keysUnder(a, part)) {
          expect(key.startsWith(keyPrefixStart(a))).toBe(true);
          expect(key.startsWith(keyPrefixStart(b))).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
    expect(keysUnder("pa:b", "t").some((key) => key.startsWith(keyPrefixStart("pa")))).toBe(false);
  });

  it("give ACL key patterns that match every key of their prefix and none of another's", () => {
    fc.assert(
      fc.property(validPrefix, validPrefix, fc.string(), (a, b, part) => {
        fc.pre(a !== b);
        const pattern = (aclRules({ keyPrefix: a }).find((rule) => rule.startsWith("~")) ?? "").slice(1);
        for (const key of keysUnder(a, part)) expect(globMatches(pattern, key)).toBe(true);
        for (const key of keysUnder(b, part)) expect(globMatches(pattern, key)).toBe(false);
      }),
      { numRuns: 1000 },
    );
    expect(aclRules({ keyPrefix: "pa" })).toContain("~pa|*");
  });

  it("cannot contain the character that ends them", () => {
    expect(keyPrefixSchema.safeParse("pa|b").success).toBe(false);
    expect(keyPrefixSchema.safeParse("pa:b").success).toBe(true);
  });
});

describe("saver thread keys", () => {
  it("keep the KEYS order every thread script reads (writesIndex indexes the writes that have their own field)", () => {
    const thread = saverThreadKeys("pre", "t");
    expect(thread.all).toEqual([
      thread.checkpoints,
      thread.blobs,
      thread.byNamespace,
      thread.byId,
      thread.writes,
      thread.writesIndex,
      thread.runFences,
      thread.byRun,
    ]);
    expect(thread.writesIndex).toBe("pre|saver:{t}:idx:writes");
  });
});

describe("expectedKeyType", () => {
  it("knows the Redis type of every key the library builds", () => {
    const p = "pre";
    const thread = saverThreadKeys(p, "t:1");
    const ns = storeNamespaceKeys(p, ["a", "b"]);
    const item = storeItemKeys(p, ["a", "b"], "k");
    const registry = storeRegistryKeys(p, 7);
    const expected: [string, string][] = [
      [thread.checkpoints, "hash"],
      [thread.blobs, "hash"],
      [thread.writes, "hash"],
      [thread.byNamespace, "zset or list"],
      [thread.byId, "zset"],
      [thread.writesIndex, "zset"],
      [saverThreadIndexKey(p), "zset"],
      [ns.items, "hash"],
      [ns.vectors, "hash"],
      [ns.state, "hash"],
      [ns.order, "zset"],
      [ns.expiry, "zset"],
      [item.history, "zset"],
      [item.fenceMarks, "hash"],
      [registry.names, "zset"],
      [registry.seq, "hash"],
      [registry.clock, "string"],
      [storeRegistrySequenceKey(p), "string"],
      [fenceCounterKey(p, "order:1"), "string"],
      [lockKey(p, "order:1"), "string"],
      [runLeaseIndexKey(p, "g:1", 0), "zset"],
      [runLeaseHoldersKey(p, "g:1", 7), "hash"],
      [runLeaseRunsKey(p, "g", 15), "hash"],
      [runLeaseTokenKey(p, "g", 2), "string"],
      [runLeaseQueueKey(p, "g:1", 5, runLeaseMember("t:1", "ns")), "zset"],
      [runLeaseWaitersKey(p, "g", 5, runLeaseMember("t", "")), "hash"],
      [threadRegistryKeys(p, 4).updated, "zset"],
      [threadRegistryKeys(p, 4).index, "zset"],
      [threadRegistryKeys(p, 4).records, "hash"],
    ];
    for (const [key, type] of expected) expect([key, expectedKeyType(key)]).toEqual([key, type]);
    expect(expectedKeyType(`${p}|saver:{t}:refs`)).toBeUndefined();
  });
});

describe("store registry buckets", () => {
  it("bucket b's tag hashes into the b-th sixteenth of the slots, so buckets cover every master", () => {
    for (let bucket = 0; bucket < STORE_REGISTRY_BUCKETS; bucket++) {
      const slot = keySlot(storeRegistryKeys("p", bucket).names);
      expect(Math.floor(slot / (16384 / STORE_REGISTRY_BUCKETS))).toBe(bucket);
      const { names, seq, clock } = storeRegistryKeys("p", bucket);
      expect(new Set([keySlot(names), keySlot(seq), keySlot(clock)]).size).toBe(1);
    }
    expect(() => storeRegistryKeys("p", STORE_REGISTRY_BUCKETS)).toThrow(RangeError);
  });

  it("spreads namespaces evenly over the buckets", () => {
    const counts = new Array<number>(STORE_REGISTRY_BUCKETS).fill(0);
    for (let i = 0; i < 16_000; i++) {
      const bucket = storeRegistryBucket(`tenant-${i}\u0000memories`);
      counts[bucket] = (counts[bucket] ?? 0) + 1;
    }
    expect(Math.min(...counts)).toBeGreaterThan(850);
    expect(Math.max(...counts)).toBeLessThan(1150);
  });
});

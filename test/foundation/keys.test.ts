import fc from "fast-check";
import {
  decodeKeyPart,
  encodeKeyPart,
  expectedKeyType,
  fenceCounterKey,
  hashTag,
  lockKey,
  runLeaseHoldersKey,
  runLeaseIndexKey,
  runLeaseTokenKey,
  saverThreadIndexKey,
  saverThreadKeys,
  storeItemKeys,
  storeNamespaceKeys,
  storeRegistryKeys,
} from "../../src/keys.js";

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

describe("expectedKeyType", () => {
  it("knows the Redis type of every key the library builds", () => {
    const p = "pre";
    const thread = saverThreadKeys(p, "t:1");
    const ns = storeNamespaceKeys(p, ["a", "b"]);
    const item = storeItemKeys(p, ["a", "b"], "k");
    const registry = storeRegistryKeys(p);
    const expected: [string, string][] = [
      [thread.checkpoints, "hash"],
      [thread.blobs, "hash"],
      [thread.writes, "hash"],
      [thread.byNamespace, "zset"],
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
      [fenceCounterKey(p, "order:1"), "string"],
      [lockKey(p, "order:1"), "string"],
      [runLeaseIndexKey(p, "g"), "zset"],
      [runLeaseHoldersKey(p, "g"), "hash"],
      [runLeaseTokenKey(p, "g"), "string"],
    ];
    for (const [key, type] of expected) expect([key, expectedKeyType(key)]).toEqual([key, type]);
    expect(expectedKeyType(`${p}:saver:{t}:refs`)).toBeUndefined();
  });
});

/**
 * Helpers on the write path: the shared prefix a delta blob is cut at (native compares that halve the range,
 * checked against a byte-by-byte scan), frames (text encoded straight into the frame, read back by unframe) and
 * the per-thread key names kept between calls.
 */
import fc from "fast-check";
import { saverThreadKeys, threadBucket, threadRegistryKeys } from "../../src/keys.js";
import { sharedPrefixLength } from "../../src/saver/blob-delta.js";
import { FrameFormat, frame, unframe } from "../../src/saver/codec.js";
import { ThreadKeysCache } from "../../src/saver/thread-keys.js";

function naivePrefix(a: Uint8Array, b: Uint8Array): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

describe("sharedPrefixLength", () => {
  it("finds the first differing byte anywhere in values up to several blocks long", () => {
    fc.assert(
      fc.property(fc.nat(12_000), fc.nat(12_000), fc.nat(255), fc.nat(5), (length, cut, byte, tail) => {
        const a = Buffer.alloc(length, 7);
        for (let i = 0; i < length; i++) a[i] = (i * 31) & 0xff;
        const b = Buffer.concat([a.subarray(0, Math.min(cut, length)), Buffer.alloc(tail + 1, byte)]);
        expect(sharedPrefixLength(a, b)).toBe(naivePrefix(a, b));
        expect(sharedPrefixLength(b, a)).toBe(naivePrefix(a, b));
      }),
      { numRuns: 300 },
    );
  });

  it("handles equal values, empty values and a difference in the last byte", () => {
    const a = Buffer.from("x".repeat(9000));
    expect(sharedPrefixLength(a, Buffer.from(a))).toBe(9000);
    expect(sharedPrefixLength(a, Buffer.alloc(0))).toBe(0);
    const b = Buffer.from(a);
    b[8999] = 0x79;
    expect(sharedPrefixLength(a, b)).toBe(8999);
    b[4096] = 0x79;
    expect(sharedPrefixLength(a, b)).toBe(4096);
  });
});

describe("frame", () => {
  it("round-trips text (any unicode) and bytes through unframe", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ unit: "grapheme" }), fc.uint8Array({ maxLength: 300 })), { maxLength: 6 }),
        (parts) => {
          const framed = frame(parts);
          expect(framed[0]).toBe(FrameFormat.PLAIN);
          const back = unframe(framed, { key: "k", what: () => "a frame" }, parts.length);
          expect(back.map((part) => Buffer.from(part))).toEqual(
            parts.map((part) => (typeof part === "string" ? Buffer.from(part, "utf8") : Buffer.from(part))),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("ThreadKeysCache", () => {
  it("builds a thread's keys once, as keys.ts builds them, and keeps at most `max` threads", () => {
    const cache = new ThreadKeysCache("p", 3);
    const first = cache.get("t:1");
    expect(first.thread).toEqual(saverThreadKeys("p", "t:1"));
    expect(first.threadIndex).toBe(threadRegistryKeys("p", threadBucket("t:1")).updated);
    expect(cache.get("t:1")).toBe(first);
    for (const id of ["a", "b", "c", "d"]) cache.get(id);
    expect(cache.size).toBe(3);
    // The oldest entry went first: t:1 is built again (equal, not the same object).
    const again = cache.get("t:1");
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
    expect(Object.isFrozen(again.thread)).toBe(true);
  });
});

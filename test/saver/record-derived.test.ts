/**
 * What a packed record leaves out of the checkpoint JSON (src/saver/record-derived.ts): the time in a version 6
 * UUID, computed without BigInt, equals the exact BigInt result over the whole 60-bit range; and leaving out, then
 * restoring, gives back the serializer's bytes for arbitrary ids, timestamps and versions.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { blobRef, encodeRefs } from "../../src/saver/codec.js";
import { leaveOutDerived, restoreDerived, uuid6Ms } from "../../src/saver/record-derived.js";

/** The exact time (Unix ms) of a version 6 UUID's 60-bit count of 100-ns steps since 1582-10-15. */
function referenceMs(steps: bigint): number {
  return Number(steps / 10_000n - 12_219_292_800_000n);
}

/** A version 6 UUID holding `steps`, as LangGraph writes checkpoint ids. */
function uuid6Of(steps: bigint, tail: string): string {
  const hex = steps.toString(16).padStart(15, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-6${hex.slice(12, 15)}-${tail.slice(0, 4)}-${tail.slice(4, 16)}`;
}

const hexTail = fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 16, maxLength: 16 });

describe("record-derived", () => {
  it("reads a version 6 UUID's time exactly over the whole 60-bit range", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 60n) - 1n }), hexTail, (steps, tail) => {
        expect(uuid6Ms(uuid6Of(steps, tail))).toBe(referenceMs(steps));
      }),
      { numRuns: 5000 },
    );
    // Around multiples of 10,000 steps, where a rounding error would show.
    for (const steps of [0n, 9_999n, 10_000n, (1n << 60n) - 1n, (1n << 60n) - 10_000n, 137_000_000_000_000_000n]) {
      for (const delta of [-1n, 0n, 1n]) {
        const at = steps + delta;
        if (at >= 0n && at < 1n << 60n) expect(uuid6Ms(uuid6Of(at, "8000000000000000"))).toBe(referenceMs(at));
      }
    }
    expect(uuid6Ms("1f1ed746-498c-49c1-8001-420f45f69a7a")).toBeUndefined(); // version 4
  });

  it("restores the serializer's bytes from what it leaves out", () => {
    // Checkpoint ids of the years 1970 to 2200, timestamps up to a day either side, versions as LangGraph writes.
    const unixSteps = 122_192_928_000_000_000n;
    fc.assert(
      fc.property(
        fc.bigInt({ min: unixSteps, max: unixSteps + 72_000_000_000_000_000n }),
        hexTail,
        fc.integer({ min: -86_400_000, max: 86_400_000 }),
        fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.nat()), { minLength: 1, maxLength: 4 }),
        (steps, tail, offsetMs, channels) => {
          const id = uuid6Of(steps, tail);
          const idMs = referenceMs(steps);
          const ts = new Date(idMs + offsetMs).toISOString();
          const versions = [...new Map(channels.map(([channel, version]) => [channel, `${version}`]))];
          const json = JSON.stringify({
            v: 4,
            id,
            ts,
            channel_versions: Object.fromEntries(versions.map(([channel, version]) => [channel, Number(version)])),
            versions_seen: {},
            channel_values: {},
          });
          const left = leaveOutDerived(Buffer.from(json), id, "", versions);
          if (left === undefined) return; // kept whole (a channel name JSON writes in another key order)
          expect(left.timestamp).toBe(/^\d{4}-/.test(ts));
          const refs = encodeRefs(
            undefined,
            versions.map(([channel, version]) => blobRef(channel, version)),
          );
          expect(restoreDerived(left.bytes, id, refs, left.timestamp)?.toString()).toBe(json);
        },
      ),
      { numRuns: 500 },
    );
  });
});

/**
 * What a packed record leaves out of the checkpoint JSON (src/saver/record-derived.ts): the time in a version 6
 * UUID, computed without BigInt, equals the exact BigInt result over the whole 60-bit range; and leaving out, then
 * restoring, gives back the serializer's bytes for arbitrary ids, timestamps and versions.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { blobRef, encodeRefs } from "../../src/saver/codec.js";
import {
  leaveOutByText,
  leaveOutDerived,
  leaveOutOfLangGraphPrefix,
  restoreDerived,
  uuid6Ms,
} from "../../src/saver/record-derived.js";

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

describe("record-derived, LangGraph's checkpoints", () => {
  const unixSteps = 122_192_928_000_000_000n;
  /** Channel names: mostly LangGraph's, some JSON escapes or writes in more than one byte per character. */
  const channelName = fc.oneof(
    fc.constantFrom("messages", "__start__", "branch:to:agent", "step", "trail"),
    fc.string({ minLength: 1, maxLength: 6 }),
    fc.constantFrom('a"b', "a\\b", "é", "\u2028", "\ud800", "x\ny"),
  );
  /** Versions as LangGraph's integers, this saver's numbers with a fraction, and text. */
  const version = fc.oneof(fc.nat(), fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constantFrom("7", "a.b"));
  /** Timestamps toISOString writes, near the id's time and far from it, and texts that only look like one. */
  const timestamp = (idMs: number) =>
    fc.oneof(
      fc.integer({ min: -86_400_000, max: 86_400_000 }).map((offset) => new Date(idMs + offset).toISOString()),
      fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 }).map((ms) => new Date(ms).toISOString()),
      fc.constantFrom(
        "2024-02-29T00:00:00.000Z",
        "2023-02-29T00:00:00.000Z",
        "2100-02-29T12:00:00.000Z",
        "2000-02-29T23:59:59.999Z",
        "2026-04-31T00:00:00.000Z",
        "2026-12-02T24:00:00.000Z",
        "2026-12-02T23:60:00.000Z",
        "2026-12-02T23:59:60.000Z",
        "2026-13-01T00:00:00.000Z",
        "2026-00-10T00:00:00.000Z",
        "2026-12-00T00:00:00.000Z",
        "2026-12-02T10:00:00.000+00:00",
        "2026-12-02 10:00:00.000Z",
        "+002026-12-02T10:00:00.000Z",
      ),
    );

  /** Text JSON.stringify writes as itself, one byte per character. */
  const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

  it("leaves out what the general path leaves out, byte for byte", () => {
    let shortWays = 0;
    fc.assert(
      fc.property(
        fc
          .tuple(fc.bigInt({ min: unixSteps, max: unixSteps + 72_000_000_000_000_000n }), hexTail)
          .chain(([steps, tail]) =>
            fc.tuple(
              fc.constant(uuid6Of(steps, tail)),
              timestamp(referenceMs(steps)),
              fc.array(fc.tuple(channelName, version), { minLength: 0, maxLength: 5 }),
              fc.constantFrom(4, 1, 12),
              fc.constantFrom("", ',"pending_sends":[]'),
            ),
          ),
        ([id, ts, channels, v, extra]) => {
          const channelVersions = Object.fromEntries(channels);
          // Versions as the refs hold them: the text of what JSON writes for each, in the object's key order.
          const versions = Object.entries(channelVersions).map(
            ([channel, value]) => [channel, typeof value === "number" ? JSON.stringify(value) : value] as const,
          );
          const seen = { agent: channelVersions, __input__: {} };
          const text = `{"v":${v},"id":${JSON.stringify(id)},"ts":${JSON.stringify(ts)},"channel_versions":${JSON.stringify(channelVersions)},"versions_seen":${JSON.stringify(seen)}${extra},"channel_values":{}}`;
          const json = Buffer.from(text);
          const general = leaveOutByText(json, id, versions);
          const short = leaveOutOfLangGraphPrefix(json, id, versions);
          // LangGraph's shape: plain channel names, versions that are numbers, a timestamp toISOString writes back
          // within the offset kept. The short way must take every such checkpoint.
          const tsMs = Date.parse(ts);
          const langGraphShape =
            channels.every(([channel, value]) => PLAIN.test(channel) && typeof value === "number") &&
            /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(ts) &&
            !Number.isNaN(tsMs) &&
            new Date(tsMs).toISOString() === ts &&
            Math.abs(tsMs - (uuid6Ms(id) as number)) <= 1e9;
          if (langGraphShape) {
            shortWays++;
            expect(short).toBeDefined();
          }
          if (short !== undefined) {
            expect(short.bytes.equals(general?.bytes ?? Buffer.alloc(0))).toBe(true);
            expect(short.timestamp).toBe(general?.timestamp);
          }
          const left = leaveOutDerived(json, id, "", versions);
          expect(left?.bytes.toString("latin1")).toBe(general?.bytes.toString("latin1"));
          if (left === undefined) return;
          const refs = encodeRefs(
            undefined,
            versions.map(([channel, value]) => blobRef(channel, value)),
          );
          expect(restoreDerived(left.bytes, id, refs, left.timestamp)?.equals(json)).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
    // Hundreds of the generated checkpoints have LangGraph's shape (about a tenth).
    expect(shortWays).toBeGreaterThan(0);
  });

  it("takes the short way for a checkpoint LangGraph wrote", () => {
    const id = "1f1ee977-f82d-68b4-8004-a976f936723f";
    const json = Buffer.from(
      `{"v":4,"id":"${id}","ts":"2026-12-02T21:29:47.195Z","channel_versions":{"messages":6.123456789,"step":6},` +
        `"versions_seen":{"agent":{"messages":6.123456789,"step":6}},"channel_values":{}}`,
    );
    const versions = [
      ["messages", "6.123456789"],
      ["step", "6"],
    ] as const;
    const short = leaveOutOfLangGraphPrefix(json, id, versions);
    expect(short?.bytes.toString()).toBe(
      `{"v":4,"id":"","ts":"+${Date.parse("2026-12-02T21:29:47.195Z") - (uuid6Ms(id) as number)}",` +
        `"channel_versions":{},"versions_seen":{"agent":{"messages":6.123456789,"step":6}},"channel_values":{}}`,
    );
    expect(short?.bytes.equals(leaveOutByText(json, id, versions)?.bytes ?? Buffer.alloc(0))).toBe(true);
    // A byte that is not UTF-8 further on: kept whole, as the general path keeps it.
    const odd = Buffer.concat([json.subarray(0, -3), Buffer.from([0x22, 0xff, 0x22, 0x7d])]);
    expect(leaveOutByText(odd, id, versions)).toBeUndefined();
    expect(leaveOutOfLangGraphPrefix(odd, id, versions)).toBeUndefined();
  });
});

/**
 * Packed checkpoint records (FrameFormat.PACKED_RECORD, src/saver/record.ts): a record round-trips packed and
 * PLAIN, `compression: false` writes PLAIN, PLAIN records of earlier releases read as before, a ciphertext stays
 * PLAIN, and damaged or oversized packed bytes are named errors naming the key.
 */
import { randomBytes } from "node:crypto";
import { deflateRawSync } from "node:zlib";
import type { Checkpoint, CheckpointMetadata } from "@langchain/langgraph-checkpoint";
import fc from "fast-check";
import {
  CorruptCheckpointError,
  DecompressionLimitError,
  EncryptedSerializer,
  InvalidInputError,
  RedisSaver,
  type RedisSaverOptions,
} from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { blobRef, checkpointField, encodeRefs, FrameFormat, frame } from "../../src/saver/codec.js";
import { decodeRecord, encodeRecord, PACK_SYNC_MAX_BYTES, recordRefs } from "../../src/saver/record.js";
import { CURRENT_RECORD_DICTIONARY_ID, RECORD_DICTIONARIES } from "../../src/saver/record-dictionary.js";
import { RECORD_TOKENS } from "../../src/saver/record-tokens.js";
import { hasLoneSurrogate } from "../../src/value-checks.js";
import { KEY_1 } from "../encryption/helpers.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { collect, makeCheckpoint } from "./saver-helpers.js";

/** A checkpoint and metadata shaped like LangGraph 1.x writes them in a chat loop. */
function loopCheckpoint(step: number): { checkpoint: Checkpoint; metadata: CheckpointMetadata } {
  const checkpoint = makeCheckpoint({ messages: [`turn ${step}`] }, { __start__: step, messages: step + 1 });
  checkpoint.channel_versions["branch:to:agent"] = step + 1;
  checkpoint.versions_seen = {
    __input__: {},
    __start__: { __start__: step },
    agent: { "branch:to:agent": step },
  };
  const metadata = {
    source: "loop",
    step,
    parents: {},
    delta_writes_versioned: true,
    counters_since_delta_snapshot: { messages: [step, step + 1] },
  } as CheckpointMetadata;
  return { checkpoint, metadata };
}

/** A loop checkpoint and the record parts put() stores for it (the checkpoint without its values, the metadata). */
function loopRecordParts(step: number) {
  const { checkpoint, metadata } = loopCheckpoint(step);
  const { channel_values: _, ...stored } = checkpoint;
  const parts = [
    "json",
    Buffer.from(JSON.stringify({ ...stored, channel_values: {} })),
    "json",
    Buffer.from(JSON.stringify(metadata)),
  ] as const;
  return { checkpoint, parts };
}

/** The time (Unix ms) in a version 6 UUID: 100-ns steps since 1582-10-15 in its first 15 hex digits but one. */
function uuidMsOf(id: string): number {
  const hex = id.slice(0, 8) + id.slice(9, 13) + id.slice(15, 18);
  return Number(BigInt(`0x${hex}`) / 10_000n) - 12_219_292_800_000;
}

const threadConfig = (threadId: string) => ({ configurable: { thread_id: threadId, checkpoint_ns: "" } });
const source = { key: "k", what: "a test record" };

describe("record codec", () => {
  const values = [
    "json",
    Buffer.from('{"v":4,"id":"x","channel_values":{}}'),
    "json",
    Buffer.from('{"step":1}'),
  ] as const;

  it("packs when that saves an eighth and round-trips; the refs stay the plain first part", async () => {
    const { parts } = loopRecordParts(7);
    const refs = encodeRefs("parent", [blobRef("messages", 8)]);
    const plain = frame([refs, ...parts]);
    const packed = await encodeRecord(refs, parts, {
      pack: true,
      maxValueBytes: Number.POSITIVE_INFINITY,
      checkpointId: "x",
    });
    expect(packed[0]).toBe(FrameFormat.PACKED_RECORD);
    // LangGraph's JSON: token packing (packing id 2, the byte after the frame's two length-prefixed parts' refs).
    expect(packed[1 + 4 + Buffer.byteLength(refs) + 4]).toBe(2);
    // The tokens take most of the boilerplate: well under two thirds of the PLAIN bytes.
    expect(packed.length).toBeLessThan((plain.length * 2) / 3);
    expect(recordRefs(packed, source)).toBe(refs);
    const decoded = await decodeRecord(packed, source, Number.POSITIVE_INFINITY, "x");
    expect(decoded.map((part) => part.toString("utf8"))).toEqual([refs, ...parts.map((p) => p.toString())]);
  });

  it("leaves the checkpoint's id and channel_versions to the field and the refs (packing id 3), exactly", async () => {
    const { checkpoint, parts } = loopRecordParts(7);
    // As put() builds them: one refs line per channel_versions entry, in its order.
    const refs = encodeRefs(
      "parent",
      Object.entries(checkpoint.channel_versions).map(([c, v]) => blobRef(c, v)),
    );
    const options = { pack: true, maxValueBytes: Number.POSITIVE_INFINITY } as const;
    const derived = await encodeRecord(refs, parts, { ...options, checkpointId: checkpoint.id });
    // Neither can be left out when the id is not the field's and the versions are not what the refs say.
    const otherRefs = encodeRefs("parent", [blobRef("messages", 1)]);
    const tokensOnly = await encodeRecord(otherRefs, parts, { ...options, checkpointId: "another id" });
    const packingId = (record: Buffer, text: string) => record[1 + 4 + Buffer.byteLength(text) + 4];
    // 4: the id is LangGraph's version 6 UUID, so the timestamp is left out too (see the test below).
    expect([packingId(derived, refs), packingId(tokensOnly, otherRefs)]).toEqual([4, 2]);
    expect(derived.length - refs.length).toBeLessThan(tokensOnly.length - otherRefs.length - checkpoint.id.length);
    const decoded = await decodeRecord(derived, source, Number.POSITIVE_INFINITY, checkpoint.id);
    expect(decoded.map((part) => part.toString("utf8"))).toEqual([refs, ...parts.map((p) => p.toString())]);
    // The limit counts the restored bytes.
    await expect(decodeRecord(derived, source, parts[1].length - 1, checkpoint.id)).rejects.toThrow(
      DecompressionLimitError,
    );
  });

  it("packing id 3 carries the checkpoint's packed length as a varint, of any size, and refuses a damaged one", async () => {
    const options = { pack: true, maxValueBytes: Number.POSITIVE_INFINITY } as const;
    // versions_seen entries the tokens shrink: packed lengths of one, two and three varint bytes.
    for (const entries of [0, 10, 1_000]) {
      const { checkpoint, metadata } = loopCheckpoint(3);
      const { channel_values: _, ...stored } = checkpoint;
      const seen = Object.fromEntries(Array.from({ length: entries }, (_, i) => [`branch:to:n${i}`, i + 0.5]));
      const json = JSON.stringify({ ...stored, versions_seen: { ...stored.versions_seen, agent: seen } });
      const parts = ["json", Buffer.from(json), "json", Buffer.from(JSON.stringify(metadata))] as const;
      const refs = encodeRefs(
        "p",
        Object.entries(checkpoint.channel_versions).map(([c, v]) => blobRef(c, v)),
      );
      const record = await encodeRecord(refs, parts, { ...options, checkpointId: checkpoint.id });
      expect(record[1 + 4 + Buffer.byteLength(refs) + 4]).toBe(4);
      const decoded = await decodeRecord(record, source, Number.POSITIVE_INFINITY, checkpoint.id);
      expect(decoded.map((part) => part.toString("utf8"))).toEqual([refs, ...parts.map((p) => p.toString())]);
    }
    const compact = (packed: number[]) => frame(["r", Buffer.from(packed)], FrameFormat.PACKED_RECORD);
    for (const packed of [[3], [3, 0x80], [3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], [3, 5, 0x7b]]) {
      const error = await decodeRecord(compact(packed), source, 1e6, "x").then(
        () => undefined,
        (e: unknown) => e,
      );
      expect({ packed, error }).toMatchObject({ packed, error: expect.any(CorruptCheckpointError) });
    }
  });

  it("packing id 4 stores the timestamp as its offset from the id's time, exactly, and only when that restores it", async () => {
    const options = { pack: true, maxValueBytes: Number.POSITIVE_INFINITY } as const;
    const { checkpoint, parts } = loopRecordParts(5);
    const refs = encodeRefs(
      "p",
      Object.entries(checkpoint.channel_versions).map(([c, v]) => blobRef(c, v)),
    );
    const withTs = (id: string, ts: string) => {
      const json = Buffer.from(parts[1].toString().replace(checkpoint.id, id).replace(checkpoint.ts, ts));
      return [parts[0], json, parts[2], parts[3]] as const;
    };
    const packingId = (record: Buffer) => record[1 + 4 + Buffer.byteLength(refs) + 4];
    const id = "1f1ecf1a-3611-6c80-8066-6dc763f7099e";
    const idTime = uuidMsOf(id);
    expect(new Date(idTime).toISOString()).toBe("2026-11-30T19:09:59.752Z");
    const cases: [string, string, number][] = [
      [id, new Date(idTime).toISOString(), 4],
      [id, new Date(idTime + 3).toISOString(), 4],
      [id, new Date(idTime - 2).toISOString(), 4],
      [id, new Date(idTime + 86_400_000).toISOString(), 4],
      [id, new Date(idTime + 2e9).toISOString(), 3], // too far from the id's time
      [id, "2026-11-30T19:09:59Z", 3], // not how toISOString writes it
      [id, "+010000-01-01T00:00:00.000Z", 3],
      ["1f1ecf1a-3611-1c80-8066-6dc763f7099e", new Date(idTime).toISOString(), 3], // version 1, not 6
      ["1F1ECF1A-3611-6C80-8066-6DC763F7099E", new Date(idTime).toISOString(), 3],
    ];
    for (const [checkpointId, ts, expected] of cases) {
      const record = await encodeRecord(refs, withTs(checkpointId, ts), { ...options, checkpointId });
      const decoded = await decodeRecord(record, source, Number.POSITIVE_INFINITY, checkpointId);
      expect({ ts, id: checkpointId, packing: packingId(record) }).toEqual({ ts, id: checkpointId, packing: expected });
      expect(decoded[2].toString()).toBe(withTs(checkpointId, ts)[1].toString());
    }
    const stored = await encodeRecord(refs, withTs(id, new Date(idTime).toISOString()), {
      ...options,
      checkpointId: id,
    });
    const three = await encodeRecord(refs, withTs(id, new Date(idTime + 2e9).toISOString()), {
      ...options,
      checkpointId: id,
    });
    expect(three.length - stored.length).toBeGreaterThanOrEqual(22);
    // The offset counts from the id's time: read under an id made 1 ms later, the time is 1 ms later.
    const later = "1f1ecf1a-3614-6390-8066-6dc763f7099e"; // 10,000 steps of 100 ns after `id`
    expect(uuidMsOf(later) - uuidMsOf(id)).toBe(1);
    const moved = await decodeRecord(stored, source, Number.POSITIVE_INFINITY, later);
    expect(JSON.parse(moved[2].toString()).ts).toBe(new Date(idTime + 1).toISOString());
    const notUuid = await decodeRecord(stored, source, Number.POSITIVE_INFINITY, "x").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(notUuid).toBeInstanceOf(CorruptCheckpointError);
  });

  it("restores exactly what the serializer wrote for any id, channels, versions and key order", async () => {
    const name = fc.oneof(
      fc.constantFrom("id", "channel_versions", "__start__", "messages", "branch:to:agent", 'a"b', "%0A", "x\ny"),
      fc.string({ maxLength: 8 }),
      fc.string({ unit: "grapheme", maxLength: 4 }),
    );
    const version = fc.oneof(fc.integer(), fc.double({ noNaN: true }), fc.string({ maxLength: 6 }), name);
    await fc.assert(
      fc.asyncProperty(
        name,
        fc.array(fc.tuple(name, version), { maxLength: 5 }),
        fc.dictionary(name, fc.dictionary(name, version, { maxKeys: 2 }), { maxKeys: 3 }),
        fc.shuffledSubarray(["v", "id", "ts", "channel_versions", "versions_seen", "channel_values"], {
          minLength: 6,
        }),
        async (id, entries, seen, order) => {
          const versions = Object.fromEntries(entries);
          const fields: Record<string, unknown> = {
            v: 4,
            id,
            ts: "2026-01-01T00:00:00.000Z",
            channel_versions: versions,
            versions_seen: seen,
            channel_values: {},
          };
          const json = Buffer.from(JSON.stringify(Object.fromEntries(order.map((k) => [k, fields[k]]))));
          const parts = ["json", json, "json", Buffer.from('{"source":"loop","step":1,"parents":{}}')] as const;
          const refs = encodeRefs(
            "p",
            Object.entries(versions).map(([c, v]) => blobRef(c, v as string | number)),
          );
          const record = await encodeRecord(refs, parts, {
            pack: true,
            maxValueBytes: Number.POSITIVE_INFINITY,
            checkpointId: id,
          });
          const decoded = await decodeRecord(record, source, Number.POSITIVE_INFINITY, id);
          expect(decoded[2].equals(json)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("restores exactly with names and versions made of separators, escapes, JSON syntax and lone surrogates", async () => {
    // Separators of the field and the refs, escape sequences, and text that looks like the left-out parts.
    const odd = fc.constantFrom(
      "\0",
      "\n",
      "%",
      "%25",
      "%0A",
      '"',
      "\\",
      ":",
      ",",
      "{}",
      '"id":""',
      '"channel_versions":{}',
      "\u2028",
      "\ud800",
      "\udfff",
      "\u{1f600}",
      "é",
    );
    const text = fc.array(fc.oneof(odd, fc.string({ maxLength: 3 })), { maxLength: 4 }).map((parts) => parts.join(""));
    // put refuses a lone surrogate in ids and channel names, not in a version string
    const wellFormed = text.filter((t) => !hasLoneSurrogate(t));
    const version = fc.oneof(fc.integer(), fc.constantFrom(-0, 1e21, 0.1, 2 ** 53), text);
    await fc.assert(
      fc.asyncProperty(
        wellFormed.filter((id) => id !== ""),
        fc.array(fc.tuple(wellFormed, version), { maxLength: 4 }),
        fc.boolean(),
        fc.boolean(),
        async (id, entries, echo, idFirst) => {
          const versions = Object.fromEntries(entries);
          // The same versions text (and the id) also elsewhere in the checkpoint, before or after the real ones.
          const seen = echo ? { channel_versions: versions, other: { id } } : {};
          const checkpoint = idFirst
            ? { v: 4, id, ts: "t", channel_values: {}, channel_versions: versions, versions_seen: seen }
            : { v: 4, versions_seen: seen, ts: "t", channel_versions: versions, id, channel_values: {} };
          const json = Buffer.from(JSON.stringify(checkpoint));
          const parts = ["json", json, "json", Buffer.from('{"source":"loop","step":1,"parents":{}}')] as const;
          const refs = encodeRefs(
            id,
            Object.entries(versions).map(([c, v]) => blobRef(c, v)),
          );
          const record = await encodeRecord(refs, parts, {
            pack: true,
            maxValueBytes: Number.POSITIVE_INFINITY,
            checkpointId: id,
          });
          // As the reader gets them: the id from the field, the refs from the stored bytes.
          const field = checkpointField("", id);
          const readId = field
            .slice(field.indexOf("\0") + 1)
            .replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
          const decoded = await decodeRecord(record, source, Number.POSITIVE_INFINITY, readId);
          expect(decoded[2].toString("utf8")).toBe(json.toString("utf8"));
        },
      ),
      { numRuns: 400 },
    );
  });

  it("stays PLAIN when packing is off, does not save an eighth, or the record is larger than maxValueBytes", async () => {
    const off = await encodeRecord("", values, {
      pack: false,
      maxValueBytes: Number.POSITIVE_INFINITY,
      checkpointId: "x",
    });
    expect(off).toEqual(frame(["", ...values]));
    const random = randomBytes(300);
    const noise = ["json", random, "json", randomBytes(100)] as const;
    expect(
      await encodeRecord("", noise, { pack: true, maxValueBytes: Number.POSITIVE_INFINITY, checkpointId: "x" }),
    ).toEqual(frame(["", ...noise]));
    const inner = frame(values);
    expect(await encodeRecord("", values, { pack: true, maxValueBytes: inner.length - 1, checkpointId: "x" })).toEqual(
      frame(["", ...values]),
    );
    expect((await encodeRecord("", values, { pack: true, maxValueBytes: inner.length, checkpointId: "x" }))[0]).toBe(
      FrameFormat.PACKED_RECORD,
    );
  });

  it("stops deflating values of a type that never shrink (ciphertext), and packs them again once they do", async () => {
    const options = { pack: true, maxValueBytes: Number.POSITIVE_INFINITY, checkpointId: "x" };
    const cipher = () => ["aes+json", randomBytes(300), "aes+json", randomBytes(100)] as const;
    for (let i = 0; i < 200; i++) {
      const parts = cipher();
      expect(await encodeRecord("r", parts, options)).toEqual(frame(["r", ...parts]));
    }
    // Compressible values of the same types: tried again within DEFLATE_RETRY_EVERY records, then every time.
    const compressible = ["aes+json", Buffer.alloc(400, "a"), "aes+json", Buffer.alloc(100, "b")] as const;
    let plainBefore = 0;
    while ((await encodeRecord("r", compressible, options))[0] !== FrameFormat.PACKED_RECORD && plainBefore < 200) {
      plainBefore++;
    }
    expect(plainBefore).toBeLessThan(64);
    for (let i = 0; i < 20; i++) {
      const packed = await encodeRecord("r", compressible, options);
      expect(packed[0]).toBe(FrameFormat.PACKED_RECORD);
      expect((await decodeRecord(packed, source, Number.POSITIVE_INFINITY, "x"))[2]).toEqual(compressible[1]);
    }
  });

  it("packs a record above the synchronous size on zlib's pool, and reads it back", async () => {
    const channels = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`channel_${i}`, i]));
    const big = [
      "json",
      Buffer.from(JSON.stringify({ channel_versions: channels })),
      "json",
      Buffer.from("{}"),
    ] as const;
    expect(frame(big).length).toBeGreaterThan(PACK_SYNC_MAX_BYTES);
    const packed = await encodeRecord("r", big, {
      pack: true,
      maxValueBytes: Number.POSITIVE_INFINITY,
      checkpointId: "x",
    });
    expect(packed[0]).toBe(FrameFormat.PACKED_RECORD);
    expect(packed.length).toBeLessThan(frame(big).length / 3);
    const decoded = await decodeRecord(packed, source, Number.POSITIVE_INFINITY, "x");
    expect(decoded[2].toString()).toBe(big[1].toString());
  });

  it("round-trips any parts, packed or not, whatever their size", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string(),
        fc.json(),
        fc.json({ maxDepth: 4 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom(64, 4096, Number.POSITIVE_INFINITY),
        async (refs, checkpoint, metadata, noise, maxValueBytes) => {
          const parts = [
            "json",
            Buffer.from(checkpoint),
            "bytes",
            Buffer.concat([Buffer.from(metadata), noise]),
          ] as const;
          const stored = await encodeRecord(refs, parts, { pack: true, maxValueBytes, checkpointId: "x" });
          expect(recordRefs(stored, source)).toBe(refs);
          const decoded = await decodeRecord(stored, source, maxValueBytes, "x");
          expect(decoded).toEqual([Buffer.from(refs), ...parts.map((p) => Buffer.from(p))]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("token packing round-trips any text between JSON's tokens, and anything it cannot take goes another way", async () => {
    const text = fc
      .array(fc.oneof(fc.constantFrom(...RECORD_TOKENS), fc.string(), fc.string({ unit: "binary", maxLength: 8 })), {
        maxLength: 30,
      })
      .map((pieces) => Buffer.from(pieces.join(""), "utf8"));
    await fc.assert(
      fc.asyncProperty(text, text, fc.constantFrom(64, 4096, Number.POSITIVE_INFINITY), async (a, b, maxValueBytes) => {
        const parts = ["json", a, "json", b] as const;
        const stored = await encodeRecord("r", parts, { pack: true, maxValueBytes, checkpointId: "x" });
        const decoded = await decodeRecord(stored, source, maxValueBytes, "x");
        expect(decoded).toEqual([Buffer.from("r"), Buffer.from("json"), a, Buffer.from("json"), b]);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses token bytes that name no token, and token-packed values that would unpack past the limit", async () => {
    const tokenPacked = (checkpoint: Buffer, metadata: Buffer) =>
      frame(
        ["", Buffer.concat([Buffer.from([2]), frame(["json", checkpoint, "json", metadata])])],
        FrameFormat.PACKED_RECORD,
      );
    for (const byte of [0, RECORD_TOKENS.length + 1, 0x1f]) {
      const error = await decodeRecord(
        tokenPacked(Buffer.from([0x7b, byte]), Buffer.from("{}")),
        source,
        1e6,
        "x",
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, String(byte)).toBeInstanceOf(CorruptCheckpointError);
      expect((error as Error).message).toMatch(new RegExp(`unknown record token ${byte}`));
    }
    // 1,000 bytes that each stand for the longest token.
    const longest = RECORD_TOKENS.reduce(
      (i, token, j) => (token.length > (RECORD_TOKENS[i] as string).length ? j : i),
      0,
    );
    const bomb = tokenPacked(Buffer.alloc(1000, longest + 1), Buffer.from("{}"));
    const size = 1000 * (RECORD_TOKENS[longest] as string).length;
    await expect(decodeRecord(bomb, source, size - 1, "x")).rejects.toThrow(DecompressionLimitError);
    await expect(decodeRecord(bomb, source, size + 1, "x")).rejects.toThrow(DecompressionLimitError);
    expect((await decodeRecord(bomb, source, size + 2, "x"))[2].length).toBe(size);
  });

  it("refuses damaged packed bytes, unknown dictionaries and inner frames of the wrong shape", async () => {
    const dictionary = RECORD_DICTIONARIES.get(CURRENT_RECORD_DICTIONARY_ID) as Buffer;
    const packedOf = (id: number, inner: Buffer) =>
      frame(["", Buffer.concat([Buffer.from([id]), deflateRawSync(inner, { dictionary })])], FrameFormat.PACKED_RECORD);
    const cases: [string, Buffer, RegExp][] = [
      [
        "not deflate",
        frame(["", Buffer.from([1, 0xff, 0xff, 0xff, 0x07])], FrameFormat.PACKED_RECORD),
        /unpacked|decompressed/,
      ],
      ["empty packed part", frame(["", Buffer.alloc(0)], FrameFormat.PACKED_RECORD), /empty packed part/],
      ["unknown dictionary", packedOf(200, frame(values)), /unknown record dictionary 200/],
      ["three inner parts", packedOf(1, frame(values.slice(0, 3))), /expected 4 parts, found 3/],
      ["inner frame not PLAIN", packedOf(1, frame(values, FrameFormat.DEFLATED)), /unknown format byte 3/],
      [
        "three outer parts",
        frame(["", Buffer.from([1]), "x"], FrameFormat.PACKED_RECORD),
        /expected 5 or 2 parts, found 3/,
      ],
      ["PLAIN with two parts", frame(["", "json"]), /expected 5 parts, found 2/],
    ];
    for (const [label, bytes, message] of cases) {
      const error = await decodeRecord(bytes, source, Number.POSITIVE_INFINITY, "x").then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, label).toBeInstanceOf(CorruptCheckpointError);
      expect((error as CorruptCheckpointError).key, label).toBe("k");
      expect((error as Error).message, label).toMatch(message);
    }
  });

  it("refuses a packed part that would inflate past the limit, on both the sync and the pool path", async () => {
    const dictionary = RECORD_DICTIONARIES.get(CURRENT_RECORD_DICTIONARY_ID) as Buffer;
    for (const size of [64 * 1024, 8 * 1024 * 1024]) {
      const inner = frame(["json", Buffer.alloc(size, 0x61), "json", "{}"]);
      const deflated = deflateRawSync(inner, { dictionary });
      const bytes = frame(["", Buffer.concat([Buffer.from([1]), deflated])], FrameFormat.PACKED_RECORD);
      await expect(decodeRecord(bytes, source, size / 2, "x")).rejects.toThrow(DecompressionLimitError);
      expect((await decodeRecord(bytes, source, size * 2, "x"))[2].length).toBe(size);
    }
  });
});

describe.each(targets)("RedisSaver packed records ($name)", ({ connect }) => {
  const saverWith = (keyPrefix: string, options: Partial<RedisSaverOptions> = {}) =>
    new RedisSaver({ client: connect(), keyPrefix, ...options });

  async function storedRecord(saver: RedisSaver, threadId: string, checkpointId: string): Promise<Buffer> {
    const keys = saverThreadKeys(saver.keyPrefix, threadId);
    return (await saver.client.hgetBuffer(keys.checkpoints, checkpointField("", checkpointId))) as Buffer;
  }

  async function putHistory(saver: RedisSaver, threadId: string, steps: number) {
    let config: { configurable: Record<string, unknown> } = threadConfig(threadId);
    const written: { checkpoint: Checkpoint; metadata: CheckpointMetadata }[] = [];
    for (let step = 0; step < steps; step++) {
      const { checkpoint, metadata } = loopCheckpoint(step);
      config = (await saver.put(config, checkpoint, metadata, { messages: step + 1 })) as typeof config;
      written.push({ checkpoint, metadata });
    }
    return { config, written };
  }

  it("stores records packed by default; getTuple and list read checkpoint and metadata back equal", async () => {
    const saver = saverWith(testPrefix("pack"));
    const { written } = await putHistory(saver, "t", 3);
    for (const { checkpoint } of written) {
      const record = await storedRecord(saver, "t", checkpoint.id);
      expect(record[0]).toBe(FrameFormat.PACKED_RECORD);
      // Packing id 4: the id and channel_versions are the field's and the refs', the timestamp an offset from the id.
      expect(record[1 + 4 + recordRefs(record, source).length + 4]).toBe(4);
    }
    const tuples = await collect(saver.list(threadConfig("t")));
    expect(tuples.map((t) => t.checkpoint)).toEqual(written.map((w) => w.checkpoint).reverse());
    expect(tuples.map((t) => t.metadata)).toEqual(written.map((w) => w.metadata).reverse());
    const latest = await saver.getTuple(threadConfig("t"));
    expect(latest?.checkpoint).toEqual(written[2]?.checkpoint);
    expect(latest?.parentConfig?.configurable?.checkpoint_id).toBe(written[1]?.checkpoint.id);
  });

  it("reads back a packed record's id and channel_versions with separators, escapes and quotes in them", async () => {
    const saver = saverWith(testPrefix("pack"));
    const names = [
      "a\0b",
      "line\nbreak",
      "100%",
      "%0A",
      'q"uote',
      "back\\slash",
      "channel_versions",
      "id",
      "é\u{1f600}",
    ];
    const versions = Object.fromEntries(names.map((name, i) => [name, i + 1]));
    let config: { configurable: Record<string, unknown> } = threadConfig("odd");
    const written: Checkpoint[] = [];
    for (const id of ['id "1"%0A', "id\n2\0%"]) {
      const checkpoint = makeCheckpoint({}, versions, id);
      checkpoint.versions_seen = { channel_versions: { ...versions }, node: { id: 1 } };
      config = (await saver.put(config, checkpoint, { source: "loop", step: 1, parents: {} }, {})) as typeof config;
      written.push(checkpoint);
      const record = await storedRecord(saver, "odd", id);
      expect(record[1 + 4 + Buffer.byteLength(recordRefs(record, source)) + 4]).toBe(3);
    }
    for (const checkpoint of written) {
      const tuple = await saver.getTuple({
        configurable: { ...threadConfig("odd").configurable, checkpoint_id: checkpoint.id },
      });
      expect(tuple?.checkpoint).toEqual(checkpoint);
    }
    expect((await collect(saver.list(threadConfig("odd")))).map((t) => t.checkpoint)).toEqual([...written].reverse());
  });

  it("refuses a channel version with a lone surrogate, which could not be read back", async () => {
    const saver = saverWith(testPrefix("pack"));
    const checkpoint = makeCheckpoint({}, { messages: "v\ud800" as unknown as number });
    await expect(
      saver.put(threadConfig("lone"), checkpoint, { source: "loop", step: 1, parents: {} }, {}),
    ).rejects.toThrow(InvalidInputError);
  });

  it("compression: false writes PLAIN records, which read back equal", async () => {
    const saver = saverWith(testPrefix("pack"), { compression: false });
    const { written } = await putHistory(saver, "t", 2);
    const record = await storedRecord(saver, "t", written[1]?.checkpoint.id as string);
    expect(record[0]).toBe(FrameFormat.PLAIN);
    expect((await saver.getTuple(threadConfig("t")))?.checkpoint).toEqual(written[1]?.checkpoint);
    expect((await saver.getTuple(threadConfig("t")))?.metadata).toEqual(written[1]?.metadata);
  });

  it("reads PLAIN records as earlier releases wrote them, beside packed ones, and packs what it writes next", async () => {
    const keyPrefix = testPrefix("pack");
    const older = saverWith(keyPrefix, { compression: false });
    const { config, written } = await putHistory(older, "t", 2);
    const saver = saverWith(keyPrefix);
    expect((await collect(saver.list(threadConfig("t")))).map((t) => t.checkpoint)).toEqual(
      written.map((w) => w.checkpoint).reverse(),
    );
    const next = loopCheckpoint(2);
    await saver.put(config, next.checkpoint, next.metadata, { messages: 3 });
    expect((await storedRecord(saver, "t", next.checkpoint.id))[0]).toBe(FrameFormat.PACKED_RECORD);
    const tuples = await collect(saver.list(threadConfig("t")));
    expect(tuples.map((t) => t.metadata)).toEqual([next.metadata, ...written.map((w) => w.metadata).reverse()]);
    expect(tuples[0]?.parentConfig?.configurable?.checkpoint_id).toBe(written[1]?.checkpoint.id);
  });

  it("keeps a ciphertext record PLAIN (it does not shrink)", async () => {
    const serde = new EncryptedSerializer({ keys: { k1: KEY_1 }, currentKeyId: "k1" });
    const saver = saverWith(testPrefix("pack"), { serde });
    const { written } = await putHistory(saver, "t", 1);
    expect((await storedRecord(saver, "t", written[0]?.checkpoint.id as string))[0]).toBe(FrameFormat.PLAIN);
    expect((await saver.getTuple(threadConfig("t")))?.checkpoint).toEqual(written[0]?.checkpoint);
  });

  it("a damaged packed record is CorruptCheckpointError naming the checkpoints key", async () => {
    const saver = saverWith(testPrefix("pack"));
    const { written } = await putHistory(saver, "t", 1);
    const id = written[0]?.checkpoint.id as string;
    const keys = saverThreadKeys(saver.keyPrefix, "t");
    const record = await storedRecord(saver, "t", id);
    const damaged = Buffer.from(record);
    // The refs part is intact (Lua still finds the blobs); flip the deflated bytes after the dictionary id.
    const packedStart = 1 + 4 + recordRefs(record, source).length + 4 + 1;
    for (let i = packedStart; i < damaged.length; i++) damaged[i] = (damaged[i] as number) ^ 0x5a;
    await saver.client.hset(keys.checkpoints, checkpointField("", id), damaged);
    const error = await saver.getTuple(threadConfig("t")).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CorruptCheckpointError);
    expect((error as CorruptCheckpointError).key).toBe(keys.checkpoints);
    expect((error as Error).message).toContain(JSON.stringify(id));
  });

  it("a packed record that would inflate past maxValueBytes is refused with DecompressionLimitError", async () => {
    const keyPrefix = testPrefix("pack");
    const writer = saverWith(keyPrefix);
    const { checkpoint, metadata } = loopCheckpoint(1);
    const big = { ...metadata, note: "x".repeat(200_000) } as CheckpointMetadata;
    await writer.put(threadConfig("t"), checkpoint, big, { messages: 2 });
    const keys = saverThreadKeys(keyPrefix, "t");
    expect((await storedRecord(writer, "t", checkpoint.id))[0]).toBe(FrameFormat.PACKED_RECORD);
    expect((await writer.getTuple(threadConfig("t")))?.metadata).toEqual(big);
    const reader = saverWith(keyPrefix, { maxValueBytes: 64 * 1024 });
    const error = await reader.getTuple(threadConfig("t")).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DecompressionLimitError);
    expect((error as DecompressionLimitError).key).toBe(keys.checkpoints);
  });

  it("copyThread moves packed records as they are (Lua reads only their refs)", async () => {
    const saver = saverWith(testPrefix("pack"));
    const { written } = await putHistory(saver, "src", 3);
    await saver.copyThread("src", "dst");
    const copied = await collect(saver.list(threadConfig("dst")));
    expect(copied.map((t) => t.checkpoint)).toEqual(written.map((w) => w.checkpoint).reverse());
    expect(copied.map((t) => t.checkpoint.channel_values)).toEqual(
      written.map((w) => w.checkpoint.channel_values).reverse(),
    );
    expect(await storedRecord(saver, "dst", written[0]?.checkpoint.id as string)).toEqual(
      await storedRecord(saver, "src", written[0]?.checkpoint.id as string),
    );
  });
});

describe("refs of a packed record", () => {
  it("encodeRefs text is the first part in both formats", async () => {
    const refs = encodeRefs(undefined, [blobRef("a", 1), blobRef("b:c", "2")]);
    const values = ["json", "{}", "json", "{}"] as const;
    expect(recordRefs(frame([refs, ...values]), source)).toBe(refs);
    const packed = frame([refs, Buffer.from([1, 3, 0])], FrameFormat.PACKED_RECORD);
    expect(recordRefs(packed, source)).toBe(refs);
  });
});

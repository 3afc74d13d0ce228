/**
 * Message tokens through a real saver: chats (plain MessagesAnnotation and DeltaChannel) and arbitrary messages of
 * every class read back equal to MemorySaver's, with their messages stored as tokens (value type jt1) and blob
 * deltas still formed; `compression: false` stores plain "json" exactly as the serializer writes it, and such
 * values stay readable (and extendable) by a saver that tokenizes; an unknown dictionary is a CorruptCheckpointError
 * naming the key.
 */
import { AIMessage, type BaseMessage, HumanMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { JsonPlusSerializer } from "@langchain/langgraph-checkpoint";
import fc from "fast-check";
import { randomWords, replyGraph, seededRandom } from "../../bench/chat-thread.js";
import type { RedisClient } from "../../src/client.js";
import { CorruptCheckpointError, EncryptedSerializer, RedisSaver, type RedisSaverOptions } from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { FrameFormat, frame } from "../../src/saver/codec.js";
import { unwrapRecord } from "../../src/saver/record.js";
import { splitWriteBundle, unframeWrite } from "../../src/saver/write-frame.js";
import { KEY_1 } from "../encryption/helpers.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { inputMetadata, loopMetadata, makeCheckpoint } from "./saver-helpers.js";
import { expectSameCheckpoints, TeeSaver } from "./tee-saver.js";

/** The parts of a frame (format byte, then 4-byte big-endian lengths). */
function parts(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let offset = 1; offset < bytes.length; ) {
    const length = bytes.readUInt32BE(offset);
    out.push(bytes.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return out;
}

interface StoredValue {
  /** Blob field or write field. */
  field: string;
  /** Channel of a write; the blob field's channel part for a blob. */
  channel: string;
  format: number;
  type: string;
  /** The value bytes of a PLAIN full blob or an uncompressed write, either frame (undefined otherwise). */
  bytes: Buffer | undefined;
}

/** The value type of every blob and pending write stored for `threadId`. */
async function storedValues(client: RedisClient, prefix: string, threadId: string) {
  const keys = saverThreadKeys(prefix, threadId);
  const blobs: StoredValue[] = [];
  const rawBlobs = await client.hgetallBuffer(keys.blobs);
  for (const [field, blob] of Object.entries(rawBlobs)) {
    const format = blob[0] as number;
    if (format === FrameFormat.IN_HISTORY) continue;
    const framed = parts(blob);
    const delta = format === FrameFormat.DELTA || format === FrameFormat.DELTA_DEFLATED;
    if (framed.length === 0) continue; // a cleared channel
    const channel = field.split("\0")[1] ?? "";
    const type = (delta ? framed[3] : framed[0])?.toString("utf8") ?? "";
    blobs.push({ field, channel, format, type, bytes: format === FrameFormat.PLAIN ? framed[1] : undefined });
  }
  const writes: StoredValue[] = [];
  const rawWrites = await client.hgetallBuffer(keys.writes);
  // Bundles that records carry (FrameFormat.RECORD_WITH_WRITES), then the writes hash's fields.
  const entries: [string, Buffer][] = [];
  for (const [field, record] of Object.entries(await client.hgetallBuffer(keys.checkpoints))) {
    const { bundle } = unwrapRecord(record, { key: keys.checkpoints, what: field });
    if (bundle) entries.push([field, bundle]);
  }
  for (const [field, stored] of [...entries, ...Object.entries(rawWrites)]) {
    const bundle = field.split("\0").length === 2;
    for (const write of bundle ? splitWriteBundle(stored) : [stored]) {
      const { channel, type, stored: bytes, deflated } = unframeWrite(write, { key: keys.writes, what: field });
      writes.push({
        field,
        channel,
        format: write[0] as number,
        type: type.toString("utf8"),
        bytes: deflated ? undefined : bytes,
      });
    }
  }
  return { blobs, writes, keys };
}

async function chat(saver: TeeSaver, kind: "plain" | "delta", threadId: string, turns: number, seed: number) {
  const random = seededRandom(seed);
  const graph = replyGraph(saver, kind, () => [new AIMessage(randomWords(random, 300))]);
  const config = { configurable: { thread_id: threadId } };
  for (let turn = 0; turn < turns; turn++) {
    await graph.invoke({ messages: [new HumanMessage(randomWords(random, 150))] }, config);
  }
  return graph;
}

/** getDeltaChannelHistory of the latest checkpoint, from RedisSaver and from MemorySaver. */
async function expectSameDeltaHistory(tee: TeeSaver, threadId: string): Promise<void> {
  const config = (await tee.memory.getTuple({ configurable: { thread_id: threadId } }))?.config as RunnableConfig;
  const expected = await tee.memory.getDeltaChannelHistory({ config, channels: ["messages"] });
  const actual = await tee.redis.getDeltaChannelHistory({ config, channels: ["messages"] });
  expect(actual).toEqual(expected);
  expect(Object.keys(actual)).toEqual(["messages"]);
}

const variants: { name: string; options: Partial<RedisSaverOptions> }[] = [
  { name: "default", options: { blobDeltas: { minBytes: 64, maxChain: 4 } } },
  { name: "compression", options: { blobDeltas: { minBytes: 64, maxChain: 4 }, compression: { minBytes: 64 } } },
];

describe.each(targets)("message tokens in stored values ($name)", ({ connect }) => {
  describe.each(variants)("$name", ({ options }) => {
    it("a plain chat stores its messages tokenized and as deltas, and reads back equal to MemorySaver", async () => {
      const client = connect();
      const keyPrefix = testPrefix("mtok");
      const tee = new TeeSaver(new RedisSaver({ client, keyPrefix, ...options }));
      await chat(tee, "plain", "plain", 8, 1);
      expect(await expectSameCheckpoints(tee, "plain")).toBe(24);
      const { blobs, writes } = await storedValues(client, keyPrefix, "plain");
      const messageBlobs = blobs.filter((blob) => blob.channel === "messages" || blob.channel === "__start__");
      expect(messageBlobs.length).toBeGreaterThan(10);
      expect(new Set(messageBlobs.map((blob) => blob.type))).toEqual(new Set(["jt1"]));
      const deltas = blobs.filter(
        (blob) => blob.format === FrameFormat.DELTA || blob.format === FrameFormat.DELTA_DEFLATED,
      );
      expect(deltas.length).toBeGreaterThan(3);
      const messageWrites = writes.filter((write) => write.channel === "messages" || write.channel === "__start__");
      expect(messageWrites.length).toBeGreaterThanOrEqual(16);
      expect(new Set(messageWrites.map((write) => write.type))).toEqual(new Set(["jt1"]));
      // Values without messages stay "json".
      expect(writes.filter((write) => write.channel.startsWith("branch:")).map((write) => write.type)).toContain(
        "json",
      );
    }, 120_000);

    it("a DeltaChannel chat's writes, snapshots and history read back equal to MemorySaver", async () => {
      const client = connect();
      const keyPrefix = testPrefix("mtok");
      const tee = new TeeSaver(new RedisSaver({ client, keyPrefix, ...options }));
      const graph = await chat(tee, "delta", "delta", 6, 2);
      await expectSameCheckpoints(tee, "delta");
      await expectSameDeltaHistory(tee, "delta");
      const state = (await graph.getState({ configurable: { thread_id: "delta" } })) as {
        values: { messages: BaseMessage[] };
      };
      expect(state.values.messages).toHaveLength(12);
      const { writes } = await storedValues(client, keyPrefix, "delta");
      const messageWrites = writes.filter((write) => write.channel === "messages");
      expect(messageWrites.length).toBeGreaterThanOrEqual(12);
      expect(new Set(messageWrites.map((write) => write.type))).toEqual(new Set(["jt1"]));
    }, 120_000);
  });

  it("arbitrary messages of every class in channel values and pending writes read back equal to MemorySaver", async () => {
    const client = connect();
    const { message } = (await import("./fixtures/message-arbitraries.js")).messageArbitraries();
    let thread = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(message, { maxLength: 5 }), fc.array(message, { maxLength: 3 }), async (list, out) => {
        const tee = new TeeSaver(new RedisSaver({ client, keyPrefix: testPrefix("mtok-any") }));
        const threadId = `any${thread++}`;
        const first = await tee.put(
          { configurable: { thread_id: threadId, checkpoint_ns: "" } },
          makeCheckpoint({ messages: list, other: { last: list[0] ?? null, n: 1 } }),
          inputMetadata,
          { messages: 1, other: 1 },
        );
        await tee.putWrites(
          first,
          [
            ["messages", out],
            ["other", out[0] ?? null],
          ],
          "task-1",
        );
        const grown = [...list, ...out];
        const second = await tee.put(first, makeCheckpoint({ messages: grown }, { messages: 2 }), loopMetadata(0), {
          messages: 2,
        });
        await tee.putWrites(second, [["messages", grown]], "task-2");
        expect(await expectSameCheckpoints(tee, threadId)).toBe(2);
      }),
      { numRuns: 15 },
    );
  }, 120_000);

  it("compression: false stores the serializer's json exactly; a saver that tokenizes reads and extends it", async () => {
    const client = connect();
    const keyPrefix = testPrefix("mtok-old");
    const older = new TeeSaver(new RedisSaver({ client, keyPrefix, compression: false }));
    await chat(older, "plain", "shared", 3, 3);
    const before = await storedValues(client, keyPrefix, "shared");
    const types = new Set([...before.blobs, ...before.writes].map((value) => value.type));
    expect(types).toEqual(new Set(["json"]));
    // Every stored message write is byte for byte what MemorySaver's serializer wrote for it.
    const serialized = new Set<string>();
    const walk = (value: unknown): void => {
      if (value instanceof Uint8Array) serialized.add(Buffer.from(value).toString("hex"));
      else if (value !== null && typeof value === "object") for (const item of Object.values(value)) walk(item);
    };
    walk((older.memory as unknown as { writes: unknown }).writes);
    const messageWrites = before.writes.filter((write) => write.channel === "messages");
    expect(messageWrites.length).toBeGreaterThanOrEqual(3);
    for (const write of messageWrites) expect(serialized.has(write.bytes?.toString("hex") ?? "")).toBe(true);
    // The current default reads what was stored as plain json, and extends the thread with tokens.
    const current = new TeeSaver(new RedisSaver({ client, keyPrefix }), older.memory);
    await chat(current, "plain", "shared", 2, 4);
    await expectSameCheckpoints(current, "shared");
    const after = await storedValues(client, keyPrefix, "shared");
    expect(after.writes.some((write) => write.type === "jt1")).toBe(true);
    expect(after.writes.some((write) => write.type === "json" && write.channel === "messages")).toBe(true);
  }, 120_000);

  it("a custom serializer or EncryptedSerializer stores no tokens", async () => {
    const client = connect();
    class Custom extends JsonPlusSerializer {}
    const serdes = [new Custom(), new EncryptedSerializer({ keys: { k1: KEY_1 }, currentKeyId: "k1" })];
    for (const serde of serdes) {
      const keyPrefix = testPrefix("mtok-serde");
      const tee = new TeeSaver(new RedisSaver({ client, keyPrefix, serde }));
      await chat(tee, "plain", "custom", 2, 5);
      await expectSameCheckpoints(tee, "custom");
      const { blobs, writes } = await storedValues(client, keyPrefix, "custom");
      const types = [...blobs, ...writes].map((value) => value.type);
      expect(types.length).toBeGreaterThan(4);
      expect(types.filter((type) => type.startsWith("jt"))).toEqual([]);
    }
  }, 120_000);

  it("a value whose dictionary this release does not know is a CorruptCheckpointError naming the key", async () => {
    const client = connect();
    const keyPrefix = testPrefix("mtok-bad");
    const saver = new RedisSaver({ client, keyPrefix, blobDeltas: false });
    await chat(new TeeSaver(saver), "plain", "bad", 2, 6);
    const { blobs, keys } = await storedValues(client, keyPrefix, "bad");
    const tokenized = blobs.filter((blob) => blob.type === "jt1" && blob.bytes !== undefined);
    expect(tokenized.length).toBeGreaterThan(0);
    for (const blob of tokenized) {
      await client.hset(keys.blobs, blob.field, frame(["jt9", blob.bytes as Buffer]));
    }
    const error = await saver.getTuple({ configurable: { thread_id: "bad" } }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CorruptCheckpointError);
    expect((error as CorruptCheckpointError).key).toBe(keys.blobs);
    expect((error as Error).message).toMatch(/"jt9".*dictionary this release does not know/);
  }, 60_000);
});

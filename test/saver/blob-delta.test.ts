/**
 * Delta-encoded and compressed blobs: every checkpoint of randomized chat histories (turns, forks through time
 * travel, interrupts and resumes, a subgraph) reads back equal to what MemorySaver returns for the same puts, with
 * small chains so full copies, anchors and deltas all occur; plus the failure paths (missing or changed base,
 * decompression bomb) and the write script's base check.
 */
import { deflateRawSync } from "node:zlib";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { Command, END, interrupt, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import fc from "fast-check";
import { randomWords, seededRandom } from "../../bench/chat-thread.js";
import {
  CorruptCheckpointError,
  DecompressionLimitError,
  RedisSaver,
  type RedisSaverOptions,
} from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { FrameFormat } from "../../src/saver/codec.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { expectSameCheckpoints, TeeSaver } from "./tee-saver.js";

type Action = { kind: "turn"; ask: boolean } | { kind: "fork"; back: number } | { kind: "resume" };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.boolean().map((ask) => ({ kind: "turn" as const, ask })) },
  { weight: 2, arbitrary: fc.nat(20).map((back) => ({ kind: "fork" as const, back })) },
  { weight: 2, arbitrary: fc.constant({ kind: "resume" as const }) },
);

/** A chat graph: `reply` answers (and asks the user first when the question says so); `notes` is a subgraph. */
function chatGraph(checkpointer: TeeSaver, seed: number) {
  const random = seededRandom(seed);
  const notes = new StateGraph(MessagesAnnotation)
    .addNode("note", () => ({ messages: [new AIMessage(`note: ${randomWords(random, 120)}`)] }))
    .addEdge(START, "note")
    .addEdge("note", END)
    .compile();
  return new StateGraph(MessagesAnnotation)
    .addNode("reply", (state) => {
      const last = state.messages[state.messages.length - 1];
      const extra = String(last?.content ?? "").startsWith("ask") ? interrupt<string, string>("which one?") : "";
      return { messages: [new AIMessage(`${extra} ${randomWords(random, 300)}`)] };
    })
    .addNode("notes", notes)
    .addEdge(START, "reply")
    .addEdge("reply", "notes")
    .addEdge("notes", END)
    .compile({ checkpointer });
}

async function runActions(tee: TeeSaver, threadId: string, actions: readonly Action[], seed: number) {
  const graph = chatGraph(tee, seed);
  const random = seededRandom(seed + 1);
  const config = { configurable: { thread_id: threadId } };
  for (const step of actions) {
    if (step.kind === "resume") {
      const state = await graph.getState(config);
      if (state.tasks.some((task) => task.interrupts.length > 0)) {
        await graph.invoke(new Command({ resume: randomWords(random, 40) }), config);
      }
      continue;
    }
    let target: typeof config & { configurable: { checkpoint_id?: string } } = config;
    if (step.kind === "fork") {
      const history = [];
      for await (const snapshot of graph.getStateHistory(config)) history.push(snapshot);
      const past = history[Math.min(step.back, history.length - 1)];
      if (past === undefined) continue;
      target = past.config as typeof target;
    }
    const ask = step.kind === "turn" && step.ask ? "ask " : "";
    await graph.invoke({ messages: [new HumanMessage(`${ask}${randomWords(random, 200)}`)] }, target);
  }
}

const variants: { name: string; options: Partial<RedisSaverOptions> }[] = [
  { name: "deltas, short chains", options: { blobDeltas: { minBytes: 64, maxChain: 4 } } },
  {
    name: "deltas and compression",
    options: { blobDeltas: { minBytes: 64, maxChain: 5 }, compression: { minBytes: 64 } },
  },
];

describe.each(targets)("blob deltas ($name)", ({ connect }) => {
  describe.each(variants)("$name", ({ options }) => {
    it("every checkpoint of randomized histories equals MemorySaver's", async () => {
      const client = connect();
      let thread = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(action, { minLength: 4, maxLength: 14 }), fc.nat(1000), async (actions, seed) => {
          const tee = new TeeSaver(new RedisSaver({ client, keyPrefix: testPrefix("delta"), ...options }));
          const threadId = `t${thread++}`;
          // A first turn, so that resumes and forks have something to act on.
          await runActions(tee, threadId, [{ kind: "turn", ask: false }, ...actions], seed);
          expect(await expectSameCheckpoints(tee, threadId)).toBeGreaterThan(0);
        }),
        { numRuns: 6 },
      );
    }, 240_000);

    it("a second saver (empty cache) reads and extends a thread the first wrote", async () => {
      const client = connect();
      const keyPrefix = testPrefix("delta2");
      const first = new TeeSaver(new RedisSaver({ client, keyPrefix, ...options }));
      await runActions(first, "shared", Array(3).fill({ kind: "turn", ask: false }), 7);
      const second = new TeeSaver(new RedisSaver({ client, keyPrefix, ...options }), first.memory);
      await runActions(second, "shared", Array(3).fill({ kind: "turn", ask: false }), 8);
      // And the first writes again, its cache now behind the thread.
      await runActions(first, "shared", Array(2).fill({ kind: "turn", ask: false }), 9);
      await expectSameCheckpoints(second, "shared");
    }, 120_000);
  });

  it("stores later versions of a growing list as deltas, so a long chat stays small", async () => {
    const client = connect();
    const keyPrefix = testPrefix("delta3");
    const plain = new RedisSaver({ client, keyPrefix: `${keyPrefix}p`, blobDeltas: false });
    const delta = new RedisSaver({ client, keyPrefix: `${keyPrefix}d` });
    for (const saver of [plain, delta]) {
      const tee = new TeeSaver(saver);
      await runActions(tee, "long", Array(12).fill({ kind: "turn", ask: false }), 3);
      await expectSameCheckpoints(tee, "long");
    }
    const blobBytes = async (saver: RedisSaver) => {
      const values = await client.hvalsBuffer(saverThreadKeys(saver.keyPrefix, "long").blobs);
      return { bytes: values.reduce((sum, v) => sum + v.length, 0), deltas: values.filter((v) => v[0] === 2).length };
    };
    const [before, after] = await Promise.all([blobBytes(plain), blobBytes(delta)]);
    expect(after.deltas).toBeGreaterThan(10);
    expect(after.bytes * 2).toBeLessThan(before.bytes);
  }, 120_000);

  describe("failure paths", () => {
    let client: ReturnType<typeof connect>;
    let saver: RedisSaver;
    /** Another process: a saver on the same keys whose cache holds none of the values `saver` wrote. */
    let reader: RedisSaver;
    let keys: ReturnType<typeof saverThreadKeys>;
    const config = { configurable: { thread_id: "broken" } };

    beforeEach(async () => {
      client = connect();
      saver = new RedisSaver({
        client,
        keyPrefix: testPrefix("delta4"),
        blobDeltas: { minBytes: 64, maxChain: 8 },
        maxValueBytes: 64 * 1024,
      });
      reader = new RedisSaver({ client, keyPrefix: saver.keyPrefix, maxValueBytes: 64 * 1024 });
      keys = saverThreadKeys(saver.keyPrefix, "broken");
      await runActions(new TeeSaver(saver), "broken", Array(3).fill({ kind: "turn", ask: false }), 5);
    });

    it("a missing base blob is a CorruptCheckpointError naming the blob", async () => {
      const fields = await client.hkeysBuffer(keys.blobs);
      const full = await Promise.all(fields.map(async (f) => [f, await client.hgetBuffer(keys.blobs, f)] as const));
      const messageBases = full.filter(([f, v]) => f.includes("messages") && v?.[0] === FrameFormat.PLAIN);
      expect(messageBases.length).toBeGreaterThan(0);
      const written = await saver.getTuple(config);
      for (const [field] of messageBases) await client.hdel(keys.blobs, field);
      const error = await reader.getTuple(config).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptCheckpointError);
      expect(String((error as Error).message)).toMatch(/missing/);
      expect((error as CorruptCheckpointError).key).toBe(keys.blobs);
      // The writer still holds the newest value it wrote (the read script checked its stored length and sent
      // neither it nor its bases): it reads the checkpoint as it was.
      expect(await saver.getTuple(config)).toEqual(written);
    });

    it("a base that changed length is a CorruptCheckpointError", async () => {
      const fields = await client.hkeysBuffer(keys.blobs);
      for (const field of fields) {
        const value = await client.hgetBuffer(keys.blobs, field);
        if (field.includes("messages") && value?.[0] === FrameFormat.PLAIN) {
          await client.hset(keys.blobs, field, Buffer.concat([value, Buffer.from(" ")]));
        }
      }
      await expect(reader.getTuple(config)).rejects.toThrow(/has changed since/);
      await expect(reader.getTuple(config)).rejects.toBeInstanceOf(CorruptCheckpointError);
    });

    it("a compressed value that would inflate beyond maxValueBytes is a DecompressionLimitError", async () => {
      const bomb = deflateRawSync(Buffer.alloc(1024 * 1024, 0x20));
      expect(bomb.length).toBeLessThan(4096);
      const type = Buffer.from("json");
      const frame = Buffer.alloc(1 + 4 + type.length + 4 + bomb.length);
      frame[0] = FrameFormat.DEFLATED;
      frame.writeUInt32BE(type.length, 1);
      type.copy(frame, 5);
      frame.writeUInt32BE(bomb.length, 5 + type.length);
      bomb.copy(frame, 9 + type.length);
      const newest = (await saver.getTuple(config))?.checkpoint.channel_versions.messages;
      expect(newest).toBeDefined();
      await client.hset(keys.blobs, Buffer.from(`\0messages\0${String(newest)}`), frame);
      // The writer holds the value it wrote under that field, but the stored length differs: it reads what is stored.
      await expect(saver.getTuple(config)).rejects.toBeInstanceOf(DecompressionLimitError);
    });

    it("a put whose cached base is gone stores a full copy instead", async () => {
      // The saver's cache still points at the latest messages version; delete every stored messages blob.
      const fields = (await client.hkeysBuffer(keys.blobs)).filter((f) => f.includes("messages"));
      await client.hdel(keys.blobs, ...fields);
      const graph = chatGraph(new TeeSaver(saver), 6);
      const result = await graph.invoke({ messages: [new HumanMessage(randomWords(seededRandom(1), 200))] }, config);
      // The first new value leaned on a deleted base: the script refused it and the writer sent a full copy, which
      // later values of the turn are deltas against.
      const stored = await Promise.all(
        (await client.hkeysBuffer(keys.blobs))
          .filter((f) => f.includes("messages"))
          .map((f) => client.hgetBuffer(keys.blobs, f)),
      );
      expect(stored.filter((blob) => blob?.[0] === FrameFormat.PLAIN).length).toBeGreaterThan(0);
      const latest = await saver.getTuple(config);
      expect(latest?.checkpoint.channel_values.messages).toEqual(result.messages);
    });
  });
});

/**
 * DeltaChannel versions left to history: named by a refs line of the checkpoint record (`\x01<channel>`), with no
 * marker blob, on every record where the version is one (whether the checkpoint changed the channel or not). Read
 * like the marker blob of earlier releases (which `compression: false` still writes): absent from channel_values,
 * walked past by getDeltaChannelHistory, and kept by retention back to the snapshot; threads that hold both forms
 * read and trim as either does. Refs lines of kinds a reader does not know are skipped.
 */
import { AIMessage, type BaseMessage, HumanMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import {
  Annotation,
  DeltaChannel,
  END,
  MemorySaver,
  messagesDeltaReducer,
  START,
  StateGraph,
} from "@langchain/langgraph";
import type { BaseCheckpointSaver, CheckpointTuple } from "@langchain/langgraph-checkpoint";
import type { RedisClient } from "../../src/client.js";
import { RedisSaver } from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { FrameFormat, IN_HISTORY_MARKER } from "../../src/saver/codec.js";
import { recordRefs, unwrapRecord } from "../../src/saver/record.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { expectNoOrphanBlobs } from "./retention-helpers.js";
import { collect, wrapRecord } from "./saver-helpers.js";
import { TeeSaver } from "./tee-saver.js";

type Messages = BaseMessage[];

/**
 * A chat whose DeltaChannel snapshots every 3 updates: `reply` adds a message, then `tag` writes only `note`, so the
 * checkpoint after `tag` (and the next turn's input checkpoint) keeps the messages version of the step before:
 * left to history after most updates, the snapshot's stored value after a snapshot.
 */
function chatGraph(checkpointer: BaseCheckpointSaver) {
  const State = Annotation.Root({
    messages: new DeltaChannel<Messages, Messages>(
      messagesDeltaReducer as (state: Messages, writes: Messages[]) => Messages,
      { snapshotFrequency: 3 },
    ),
    note: Annotation<string>(),
  });
  return new StateGraph(State)
    .addNode("reply", (state) => ({
      messages: [new AIMessage({ content: `answer ${state.messages.length}`, id: `a${state.messages.length}` })],
    }))
    .addNode("tag", (state) => ({ note: `seen ${state.messages.length}` }))
    .addEdge(START, "reply")
    .addEdge("reply", "tag")
    .addEdge("tag", END)
    .compile({ checkpointer });
}

/**
 * The graph run through a TeeSaver: it reads from `redis`; MemorySaver and `oracle` (a RedisSaver with
 * `compression: false`, which stores the marker blob as earlier releases did) get every write too. The graph over
 * MemorySaver loads the same checkpoints.
 */
function teeGraphs(redis: RedisSaver, memory = new MemorySaver(), oracle?: RedisSaver) {
  const mirror =
    oracle ?? new RedisSaver({ client: redis.client, keyPrefix: testPrefix("oracle"), compression: false });
  const tee = new TeeSaver(redis, memory, [mirror]);
  return { redis, memory, oracle: mirror, graph: chatGraph(tee), memoryGraph: chatGraph(memory) };
}

type Graphs = ReturnType<typeof teeGraphs>;

/**
 * Chat turns `from` to `to - 1`; with `runs`, turn n runs as `run-n` (its checkpoints join the run index); with
 * durability "exit", a turn stores only its last checkpoint (and its DeltaChannel writes anchored on the one before).
 */
async function turns(
  graphs: Graphs,
  threadId: string,
  from: number,
  to: number,
  { runs = false, durability }: { runs?: boolean; durability?: "exit" | "async" } = {},
): Promise<void> {
  for (let turn = from; turn < to; turn++) {
    const input = { messages: [new HumanMessage({ content: `question ${turn}`, id: `q${turn}` })] };
    const metadata = runs ? { run_id: `run-${turn}` } : undefined;
    await graphs.graph.invoke(input, { configurable: { thread_id: threadId }, metadata, durability });
  }
}

interface StoredRecord {
  id: string;
  /** The record's format byte: PLAIN when written with `compression: false`, else (mostly) PACKED_RECORD. */
  format: number;
  parentId: string;
  /** channel -> version text, from the refs' channel lines. */
  versions: Map<string, string>;
  /** Channels the refs name as left to history. */
  inHistory: string[];
  /** Lines after the first that are neither. */
  other: string[];
}

/** The root namespace's records as stored, read from their raw refs. */
async function storedRecords(client: RedisClient, saver: RedisSaver, threadId: string): Promise<StoredRecord[]> {
  const keys = saverThreadKeys(saver.keyPrefix, threadId);
  const all = (await client.hgetallBuffer(keys.checkpoints)) as Record<string, Buffer>;
  const records: StoredRecord[] = [];
  for (const [field, record] of Object.entries(all)) {
    if (!field.startsWith("\0")) continue;
    const [parentId = "", ...lines] = recordRefs(record, { key: keys.checkpoints, what: "record" }).split("\n");
    const entry: StoredRecord = {
      id: field.slice(1),
      format: unwrapRecord(record, { key: keys.checkpoints, what: "record" }).record[0] as number,
      parentId,
      versions: new Map(),
      inHistory: [],
      other: [],
    };
    for (const line of lines) {
      const cut = line.indexOf("\0");
      if (cut >= 0) entry.versions.set(line.slice(0, cut), line.slice(cut + 1));
      else if (line.startsWith("\x01")) entry.inHistory.push(line.slice(1));
      else entry.other.push(line);
    }
    records.push(entry);
  }
  return records;
}

async function storedBlobs(client: RedisClient, saver: RedisSaver, threadId: string): Promise<Map<string, Buffer>> {
  const blobs = await client.hgetallBuffer(saverThreadKeys(saver.keyPrefix, threadId).blobs);
  return new Map(Object.entries(blobs as Record<string, Buffer>));
}

/**
 * Every root checkpoint of the thread reads as the oracle reads it (a version left to history absent, as with the
 * marker blob), and as MemorySaver's: the same pending writes, the same delta history where LangGraph asks for it
 * (the messages value is absent), the same graph state. Returns how many lacked their messages value.
 */
async function expectReadsAsMemory(graphs: Graphs, threadId: string): Promise<number> {
  const { redis: saver, memory, oracle } = graphs;
  const tuples = await collect(saver.list({ configurable: { thread_id: threadId, checkpoint_ns: "" } }));
  expect(tuples.length).toBeGreaterThan(3);
  let absent = 0;
  for (const tuple of tuples) {
    const where = JSON.stringify(tuple.config.configurable);
    const expected = (await memory.getTuple(tuple.config)) as CheckpointTuple;
    expect(expected, `MemorySaver has ${where}`).toBeDefined();
    expect(tuple, where).toEqual(await oracle.getTuple(tuple.config));
    expect(await saver.getTuple(tuple.config), where).toEqual(tuple);
    expect(tuple.pendingWrites, where).toEqual(expected.pendingWrites);
    if (!Object.hasOwn(tuple.checkpoint.channel_values, "messages")) {
      absent += 1;
      const request = { config: tuple.config, channels: ["messages"] };
      expect(await saver.getDeltaChannelHistory(request), `history at ${where}`).toEqual(
        await memory.getDeltaChannelHistory(request),
      );
    }
    const [actual, wanted] = await Promise.all([
      graphs.graph.getState(tuple.config),
      graphs.memoryGraph.getState(tuple.config),
    ]);
    expect(actual.values, `state at ${where}`).toEqual(wanted.values);
  }
  return absent;
}

/** Rewrites every stored record's refs with `line` added at their end (as another kind of refs line would be). */
async function addRefsLine(client: RedisClient, saver: RedisSaver, threadId: string, line: string): Promise<void> {
  const keys = saverThreadKeys(saver.keyPrefix, threadId);
  const all = (await client.hgetallBuffer(keys.checkpoints)) as Record<string, Buffer>;
  for (const [field, stored] of Object.entries(all)) {
    // Inside the wrapper of a record that carries its pending writes, which stays around it.
    const { record, bundle } = unwrapRecord(stored, { key: keys.checkpoints, what: "record" });
    const length = record.readUInt32BE(1);
    const refs = Buffer.concat([record.subarray(5, 5 + length), Buffer.from(`\n${line}`, "utf8")]);
    const head = Buffer.alloc(5);
    head[0] = record[0] as number;
    head.writeUInt32BE(refs.length, 1);
    const changed = Buffer.concat([head, refs, record.subarray(5 + length)]);
    await client.hset(keys.checkpoints, field, bundle ? wrapRecord(changed, bundle) : changed);
  }
}

describe.each(targets)("DeltaChannel versions left to history ($name)", ({ connect }) => {
  let client: RedisClient;
  beforeAll(() => {
    client = connect();
  });
  const latest = (threadId: string): RunnableConfig => ({ configurable: { thread_id: threadId } });
  const expectLatestAsMemory = async (graphs: Graphs, threadId: string, memoryThreadId = threadId) => {
    const [actual, wanted] = await Promise.all([
      graphs.graph.getState(latest(threadId)),
      graphs.memoryGraph.getState(latest(memoryThreadId)),
    ]);
    expect(actual.values.messages.length).toBeGreaterThan(0);
    expect(actual.values, threadId).toEqual(wanted.values);
  };

  it("are named in the refs of every record where they hold, changed or not, with no marker blob; read as MemorySaver's", async () => {
    const graphs = teeGraphs(new RedisSaver({ client, keyPrefix: testPrefix("dih") }));
    const saver = graphs.redis;
    await turns(graphs, "chat", 0, 8);

    const blobs = await storedBlobs(client, saver, "chat");
    expect([...blobs.values()].filter((blob) => blob[0] === FrameFormat.IN_HISTORY)).toEqual([]);
    const records = await storedRecords(client, saver, "chat");
    const byId = new Map(records.map((r) => [r.id, r]));
    let unchangedMarked = 0;
    let unchangedSeeded = 0;
    for (const record of records) {
      const version = record.versions.get("messages");
      // Besides, only null values (the graph's branch channels) are named.
      expect(
        record.other.filter((line) => !line.startsWith("\x03")),
        record.id,
      ).toEqual([]);
      // Named exactly when no value is stored at the version (a snapshot's is).
      const named = record.inHistory.includes("messages");
      expect(named, `${record.id} at messages ${version}`).toBe(
        version !== undefined && !blobs.has(`\0messages\0${version}`),
      );
      expect(record.inHistory.filter((channel) => channel !== "messages")).toEqual([]);
      if (version !== undefined && byId.get(record.parentId)?.versions.get("messages") === version) {
        if (named) unchangedMarked += 1;
        else unchangedSeeded += 1;
      }
    }
    // Both kinds of checkpoints that keep the parent's version were written.
    expect(unchangedMarked).toBeGreaterThan(3);
    expect(unchangedSeeded).toBeGreaterThan(0);
    expect(await expectReadsAsMemory(graphs, "chat")).toBeGreaterThan(10);

    // A copy holds the records as stored, and reads the same.
    await saver.copyThread("chat", "copy");
    const byIdOrder = (a: StoredRecord, b: StoredRecord) => (a.id < b.id ? -1 : 1);
    expect((await storedRecords(client, saver, "copy")).sort(byIdOrder)).toEqual(records.sort(byIdOrder));
    await expectLatestAsMemory(graphs, "copy", "chat");
  });

  it.each(["async", "exit"] as const)(
    "retention keeps the chain back to the snapshot of a kept checkpoint that did not change its DeltaChannel (durability %s)",
    async (durability) => {
      const graphs = teeGraphs(new RedisSaver({ client, keyPrefix: testPrefix("dir") }));
      const saver = graphs.redis;
      let kept = 0;
      let marked = 0;
      for (let turn = 0; turn < 8; turn++) {
        await turns(graphs, "chat", turn, turn + 1, { durability });
        // The newest checkpoint is the one after `tag`: messages unchanged, left to history unless just snapshotted.
        const removed = await saver.prune(["chat"], { strategy: "keep_latest" });
        expect(removed.incomplete).toEqual([]);
        const records = await storedRecords(client, saver, "chat");
        kept = Math.max(kept, records.length);
        const newest = (await saver.getTuple(latest("chat"))) as CheckpointTuple;
        const record = records.find((r) => r.id === newest.checkpoint.id) as StoredRecord;
        await expectLatestAsMemory(graphs, "chat");
        // Named in the refs, so LangGraph rebuilds it from the history: the chain back to the snapshot is there.
        if (record.inHistory.includes("messages")) {
          marked += 1;
          expect(Object.hasOwn(newest.checkpoint.channel_values, "messages")).toBe(false);
          const request = { config: newest.config, channels: ["messages"] };
          expect(await saver.getDeltaChannelHistory(request)).toEqual(
            await graphs.memory.getDeltaChannelHistory(request),
          );
        }
        await expectNoOrphanBlobs(saver, "chat");
      }
      expect(marked).toBeGreaterThan(3);
      // More than the one checkpoint asked for was kept: the chain the newest one's messages are rebuilt from (with
      // durability "exit" a turn stores one checkpoint, and the channel snapshots within two turns).
      expect(kept).toBeGreaterThan(durability === "exit" ? 1 : 2);
    },
  );

  it("threads holding marker blobs and refs lines side by side read, walk and trim as either does", async () => {
    for (const [first, second] of [
      [false, undefined],
      [undefined, false],
    ] as const) {
      const prefix = testPrefix("dim");
      const earlier = teeGraphs(new RedisSaver({ client, keyPrefix: prefix, compression: first }));
      const later = new RedisSaver({ client, keyPrefix: prefix, compression: second });
      const graphs = teeGraphs(later, earlier.memory, earlier.oracle);
      const saver = graphs.redis;
      const label = `compression ${String(first)} then ${String(second)}`;
      await turns(earlier, "chat", 0, 4);
      await turns(graphs, "chat", 4, 8);
      const blobs = await storedBlobs(client, saver, "chat");
      const records = await storedRecords(client, saver, "chat");
      expect(
        [...blobs.values()].some((blob) => blob.equals(IN_HISTORY_MARKER)),
        label,
      ).toBe(true);
      expect(
        records.some((record) => record.inHistory.length > 0),
        label,
      ).toBe(true);
      // A record written with `compression: false` finds a blob (value or marker) at each version, also at one it
      // kept from a record the other writer stored with only a refs line.
      const unpacked = records.filter(
        (record) =>
          record.format === FrameFormat.PLAIN && record.inHistory.length === 0 && record.versions.has("messages"),
      );
      expect(unpacked.length, label).toBeGreaterThan(5);
      for (const record of unpacked) {
        expect(blobs.has(`\0messages\0${record.versions.get("messages")}`), `${label}: ${record.id}`).toBe(true);
      }
      expect(await expectReadsAsMemory(graphs, "chat")).toBeGreaterThan(10);
      for (const keepLast of [3, 1]) {
        const removed = await saver.prune(["chat"], { keepLast });
        expect(removed.incomplete).toEqual([]);
        await expectLatestAsMemory(graphs, "chat");
        for (const tuple of await collect(saver.list({ configurable: { thread_id: "chat", checkpoint_ns: "" } }))) {
          if (Object.hasOwn(tuple.checkpoint.channel_values, "messages")) continue;
          const request = { config: tuple.config, channels: ["messages"] };
          expect(await saver.getDeltaChannelHistory(request), `${label}, keepLast ${keepLast}`).toEqual(
            await graphs.memory.getDeltaChannelHistory(request),
          );
        }
        await expectNoOrphanBlobs(saver, "chat");
      }
      // The thread goes on after the trim, its newest state still MemorySaver's.
      await turns(graphs, "chat", 8, 10);
      await expectLatestAsMemory(graphs, "chat");
    }
  });

  it("deleteForRuns leaves the remaining checkpoints reading as MemorySaver's, their chains whole", async () => {
    const graphs = teeGraphs(new RedisSaver({ client, keyPrefix: testPrefix("did") }));
    const saver = graphs.redis;
    await turns(graphs, "chat", 0, 5, { runs: true });
    const before = await collect(saver.list(latest("chat")));
    await turns(graphs, "chat", 5, 7, { runs: true });
    const removed = await saver.deleteForRuns(["run-6", "run-5"]);
    expect(removed.checkpoints).toBeGreaterThan(3);
    const after = await collect(saver.list(latest("chat")));
    expect(after.map((t) => t.checkpoint.id)).toEqual(before.map((t) => t.checkpoint.id));
    expect(await expectReadsAsMemory(graphs, "chat")).toBeGreaterThan(5);
    await expectNoOrphanBlobs(saver, "chat");
    // The thread goes on from what is left, as MemorySaver's goes on from the same checkpoint.
    const from = (after[0] as CheckpointTuple).config;
    const input = { messages: [new HumanMessage({ content: "again", id: "again" })] };
    const actual = await graphs.graph.invoke(input, from);
    const wanted = await graphs.memoryGraph.invoke(input, from);
    expect(actual.messages.length).toBeGreaterThan(2);
    expect(actual).toEqual(wanted);
  });

  it("compression: false stores the marker blob of every version left to history and no refs line", async () => {
    const graphs = teeGraphs(new RedisSaver({ client, keyPrefix: testPrefix("dif"), compression: false }));
    const saver = graphs.redis;
    await turns(graphs, "chat", 0, 6);
    const blobs = await storedBlobs(client, saver, "chat");
    const records = await storedRecords(client, saver, "chat");
    let markers = 0;
    for (const record of records) {
      expect(record.inHistory, record.id).toEqual([]);
      expect(record.other, record.id).toEqual([]);
      // Every version is stored: a value (the snapshot's) or the marker.
      if (!record.versions.has("messages")) continue;
      const blob = blobs.get(`\0messages\0${record.versions.get("messages")}`);
      expect(blob, record.id).toBeDefined();
      if (blob?.equals(IN_HISTORY_MARKER)) markers += 1;
    }
    expect(markers).toBeGreaterThan(5);
    expect(await expectReadsAsMemory(graphs, "chat")).toBeGreaterThan(5);
  });

  it("refs lines of another kind (no NUL) are skipped by every reader: reads, walks, trims, copies", async () => {
    const graphs = teeGraphs(new RedisSaver({ client, keyPrefix: testPrefix("dio") }));
    const saver = graphs.redis;
    await turns(graphs, "chat", 0, 6);
    const before = await collect(saver.list(latest("chat")));
    await addRefsLine(client, saver, "chat", "\x02run%0A1");
    expect((await storedRecords(client, saver, "chat")).every((r) => r.other.includes("\x02run%0A1"))).toBe(true);
    expect(await collect(saver.list(latest("chat")))).toEqual(before);
    expect(await expectReadsAsMemory(graphs, "chat")).toBeGreaterThan(5);
    await saver.copyThread("chat", "copy");
    await expectLatestAsMemory(graphs, "copy", "chat");
    const removed = await saver.prune(["chat"], { keepLast: 1 });
    expect(removed.incomplete).toEqual([]);
    expect(removed.checkpoints).toBeGreaterThan(0);
    await expectLatestAsMemory(graphs, "chat");
    await expectNoOrphanBlobs(saver, "chat");
  });
});

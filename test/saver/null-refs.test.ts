/**
 * Channel values that are JSON null (LangGraph's `branch:to:*` channels at nearly every step): named by a refs line
 * of the checkpoint record (`\x03<channel>`) on every record where they hold, with no blob; read as null, equal to
 * what MemorySaver and a `compression: false` saver (which stores the blob as earlier releases did) return. Threads
 * holding both forms read as either does; a custom serializer or an EncryptedSerializer stores blobs as before.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import { Annotation, END, MemorySaver, START, StateGraph } from "@langchain/langgraph";
import {
  type BaseCheckpointSaver,
  type ChannelVersions,
  type CheckpointTuple,
  emptyCheckpoint,
  JsonPlusSerializer,
} from "@langchain/langgraph-checkpoint";
import type { RedisClient } from "../../src/client.js";
import { EncryptedSerializer, RedisSaver } from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { blobField, frame } from "../../src/saver/codec.js";
import { recordRefs } from "../../src/saver/record.js";
import { KEY_1 } from "../encryption/helpers.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { CHANNELS, randomHistory } from "./random-history.js";
import { collect, inputMetadata, loopMetadata } from "./saver-helpers.js";
import { TeeSaver } from "./tee-saver.js";

/** A graph of a few nodes and a conditional edge: LangGraph writes its `branch:to:*` channels as null. */
function branchGraph(checkpointer: BaseCheckpointSaver) {
  const State = Annotation.Root({
    count: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }),
    note: Annotation<string | null>(),
  });
  return new StateGraph(State)
    .addNode("a", () => ({ count: 1 }))
    .addNode("b", (state) => ({ count: 1, note: state.count % 2 === 0 ? null : `odd ${state.count}` }))
    .addNode("c", () => ({ count: 10 }))
    .addEdge(START, "a")
    .addEdge("a", "b")
    .addConditionalEdges("b", (state) => (state.count % 3 === 0 ? "c" : END), ["c", END])
    .addEdge("c", END)
    .compile({ checkpointer });
}

interface StoredRecord {
  ns: string;
  id: string;
  versions: Map<string, string>;
  nulls: string[];
}

async function storedRecords(client: RedisClient, saver: RedisSaver, threadId: string): Promise<StoredRecord[]> {
  const keys = saverThreadKeys(saver.keyPrefix, threadId);
  const all = (await client.hgetallBuffer(keys.checkpoints)) as Record<string, Buffer>;
  return Object.entries(all).map(([field, record]) => {
    const cut = field.indexOf("\0");
    const [, ...lines] = recordRefs(record, { key: keys.checkpoints, what: "record" }).split("\n");
    const entry: StoredRecord = { ns: field.slice(0, cut), id: field.slice(cut + 1), versions: new Map(), nulls: [] };
    for (const line of lines) {
      const nul = line.indexOf("\0");
      if (nul >= 0) entry.versions.set(line.slice(0, nul), line.slice(nul + 1));
      else if (line.startsWith("\x03")) entry.nulls.push(line.slice(1));
    }
    return entry;
  });
}

async function storedBlobs(client: RedisClient, saver: RedisSaver, threadId: string): Promise<Map<string, Buffer>> {
  const blobs = await client.hgetallBuffer(saverThreadKeys(saver.keyPrefix, threadId).blobs);
  return new Map(Object.entries(blobs as Record<string, Buffer>));
}

/** Every checkpoint of the thread (every namespace) in a stable order. */
async function threadState(saver: BaseCheckpointSaver, threadId: string): Promise<CheckpointTuple[]> {
  const tuples = await collect(saver.list({ configurable: { thread_id: threadId } }));
  const key = (t: CheckpointTuple) => `${t.config.configurable?.checkpoint_ns}\0${t.checkpoint.id}`;
  return tuples.sort((a, b) => (key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : 0));
}

function nullChannels(tuple: CheckpointTuple): string[] {
  return Object.keys(tuple.checkpoint.channel_values)
    .filter((channel) => tuple.checkpoint.channel_values[channel] === null)
    .sort();
}

/** Each record names exactly the channels whose value reads null, and no blob is stored for any of them. */
async function expectNullsMarkedNotStored(client: RedisClient, saver: RedisSaver, threadId: string) {
  const blobs = await storedBlobs(client, saver, threadId);
  let marked = 0;
  for (const record of await storedRecords(client, saver, threadId)) {
    const config = { configurable: { thread_id: threadId, checkpoint_ns: record.ns, checkpoint_id: record.id } };
    const tuple = (await saver.getTuple(config)) as CheckpointTuple;
    expect(record.nulls.sort(), record.id).toEqual(nullChannels(tuple));
    for (const channel of record.nulls) {
      marked += 1;
      const field = blobField(record.ns, channel, record.versions.get(channel) as string);
      expect(blobs.has(field), `blob ${JSON.stringify(field)}`).toBe(false);
    }
  }
  return marked;
}

describe.each(targets)("null channel values named in the refs ($name)", ({ connect }) => {
  let client: RedisClient;
  beforeAll(() => {
    client = connect();
  });

  it("a graph's branch channels: no null blob stored, every checkpoint reads as MemorySaver's and the oracle's", async () => {
    const redis = new RedisSaver({ client, keyPrefix: testPrefix("nr") });
    const oracle = new RedisSaver({ client, keyPrefix: testPrefix("nr-oracle"), compression: false });
    const memory = new MemorySaver();
    const graph = branchGraph(new TeeSaver(redis, memory, [oracle]));
    for (let turn = 0; turn < 4; turn++) await graph.invoke({ count: 1 }, { configurable: { thread_id: "g" } });

    expect(await expectNullsMarkedNotStored(client, redis, "g")).toBeGreaterThan(4);
    const tuples = await threadState(redis, "g");
    expect(tuples.length).toBeGreaterThan(8);
    let nulls = 0;
    for (const tuple of tuples) {
      const where = JSON.stringify(tuple.config.configurable);
      expect(tuple, where).toEqual(await oracle.getTuple(tuple.config));
      const expected = (await memory.getTuple(tuple.config)) as CheckpointTuple;
      // MemorySaver keeps channel_values as given (defaults of channels without a version too): the null ones agree.
      expect(nullChannels(tuple), where).toEqual(nullChannels(expected));
      expect(tuple.checkpoint.channel_versions, where).toEqual(expected.checkpoint.channel_versions);
      nulls += Object.values(tuple.checkpoint.channel_values).filter((value) => value === null).length;
    }
    expect(nulls).toBeGreaterThan(4);
    // The oracle stores a blob per null value, as earlier releases did.
    const oracleBlobs = await storedBlobs(client, oracle, "g");
    const nullBlob = frame(["json", "null"]);
    expect([...oracleBlobs.values()].filter((blob) => nullBlob.equals(blob)).length).toBeGreaterThan(4);
    const stored = [...(await storedBlobs(client, redis, "g")).entries()];
    expect(stored.filter(([, blob]) => nullBlob.equals(blob)).map(([field]) => field)).toEqual([]);
  });

  it("randomized histories (forks, namespaces, kept null values) read as MemorySaver's and a compression: false saver's; copyThread keeps them", async () => {
    for (const seed of [31, 32, 33]) {
      const redis = new RedisSaver({ client, keyPrefix: testPrefix("nrr") });
      const oracle = new RedisSaver({ client, keyPrefix: testPrefix("nrr-oracle"), compression: false });
      const memory = new MemorySaver();
      const steps = await randomHistory([redis, oracle, memory], "t", seed, 30, { nullValues: true });
      await randomHistory([redis, memory], "g", seed, 30, { nullValues: true, growingBytes: 200 });
      // getDeltaChannelHistory of plain channels stops at a null value as at a stored one: the same seeds and writes.
      for (const step of steps) {
        const ask = { config: step.config, channels: [...CHANNELS] };
        expect(await redis.getDeltaChannelHistory(ask), `seed ${seed}`).toEqual(
          await memory.getDeltaChannelHistory(ask),
        );
      }

      expect(await expectNullsMarkedNotStored(client, redis, "t"), `seed ${seed}`).toBeGreaterThan(5);
      await expectNullsMarkedNotStored(client, redis, "g");
      const state = await threadState(redis, "t");
      expect(state, `seed ${seed}`).toEqual(await threadState(memory, "t"));
      expect(state, `seed ${seed}`).toEqual(await threadState(oracle, "t"));
      expect(await threadState(redis, "g"), `seed ${seed}`).toEqual(await threadState(memory, "g"));

      await redis.copyThread("t", "t-copy");
      await randomHistory([memory], "t-copy", seed, 30, { nullValues: true });
      expect(await threadState(redis, "t-copy"), `seed ${seed}`).toEqual(await threadState(memory, "t-copy"));
      await expectNullsMarkedNotStored(client, redis, "t-copy");
    }
  });

  it("a thread mixing records with null blobs (compression: false, earlier releases) and marked ones reads as MemorySaver's", async () => {
    const keyPrefix = testPrefix("nrm");
    const marked = new RedisSaver({ client, keyPrefix });
    const blobbed = new RedisSaver({ client, keyPrefix, compression: false });
    const memory = new MemorySaver();
    // Alternating writers on one thread: each keeps the other's null values from the parent.
    const put = async (saver: RedisSaver, step: number, parentId: string | undefined, value: unknown) => {
      const checkpoint = {
        ...emptyCheckpoint(),
        id: `cp-${step}`,
        channel_values: { "branch:to:a": null, kept: null, other: value },
        channel_versions: { "branch:to:a": step + 2, kept: 1, other: step + 2 },
      };
      const config: RunnableConfig = { configurable: { thread_id: "m", checkpoint_ns: "", checkpoint_id: parentId } };
      const newVersions: ChannelVersions =
        step === 0 ? { "branch:to:a": 2, kept: 1, other: 2 } : { "branch:to:a": step + 2, other: step + 2 };
      const metadata = step === 0 ? inputMetadata : loopMetadata(step);
      await Promise.all([
        saver.put(config, checkpoint, metadata, newVersions),
        memory.put(config, checkpoint, metadata),
      ]);
    };
    const writers = [marked, blobbed, marked, marked, blobbed, blobbed];
    for (let step = 0; step < writers.length; step++) {
      await put(writers[step] as RedisSaver, step, step === 0 ? undefined : `cp-${step - 1}`, step % 2 ? null : [step]);
    }
    const records = new Map((await storedRecords(client, marked, "m")).map((record) => [record.id, record]));
    const blobs = await storedBlobs(client, marked, "m");
    for (let step = 0; step < writers.length; step++) {
      const record = records.get(`cp-${step}`) as StoredRecord;
      const expectedNulls =
        writers[step] === marked ? (step % 2 ? ["branch:to:a", "kept", "other"] : ["branch:to:a", "kept"]) : [];
      expect(record.nulls.sort(), `cp-${step}`).toEqual(expectedNulls);
      // A record written without marks has every null value it names stored (a kept one too: HSETNX writes it once).
      if (writers[step] === blobbed) {
        for (const [channel, version] of record.versions) {
          if (channel !== "other" || step % 2)
            expect(blobs.has(blobField("", channel, version)), `cp-${step} ${channel}`).toBe(true);
        }
      }
    }
    expect(await threadState(marked, "m")).toEqual(await threadState(memory, "m"));
    expect(await threadState(blobbed, "m")).toEqual(await threadState(memory, "m"));
  });

  it("a custom serializer, an EncryptedSerializer or compression: false store null values as blobs, as before", async () => {
    class CustomSerde extends JsonPlusSerializer {}
    const savers = [
      new RedisSaver({ client, keyPrefix: testPrefix("nrc"), serde: new CustomSerde() }),
      new RedisSaver({
        client,
        keyPrefix: testPrefix("nre"),
        serde: new EncryptedSerializer({ keys: { k1: KEY_1 }, currentKeyId: "k1" }),
      }),
      new RedisSaver({ client, keyPrefix: testPrefix("nrf"), compression: false }),
    ];
    for (const saver of savers) {
      const memory = new MemorySaver();
      await randomHistory([saver, memory], "s", 41, 20, { nullValues: true });
      const blobs = await storedBlobs(client, saver, "s");
      let nulls = 0;
      for (const record of await storedRecords(client, saver, "s")) {
        expect(record.nulls).toEqual([]);
        const config = { configurable: { thread_id: "s", checkpoint_ns: record.ns, checkpoint_id: record.id } };
        const tuple = (await saver.getTuple(config)) as CheckpointTuple;
        for (const [channel, value] of Object.entries(tuple.checkpoint.channel_values)) {
          if (value !== null) continue;
          nulls += 1;
          expect(blobs.has(blobField(record.ns, channel, record.versions.get(channel) as string))).toBe(true);
        }
      }
      expect(nulls).toBeGreaterThan(5);
      expect(await threadState(saver, "s")).toEqual(await threadState(memory, "s"));
    }
  });
});

/**
 * Redis restarted (SIGTERM, then SIGKILL) under write load with appendonly yes + appendfsync always. A real writer
 * process runs LangGraph graphs with RedisSaver and logs every checkpoint the saver acknowledged; after the restarts
 * the test reads each one back, checks no checkpoint is partial, and that every run finished exactly once per step.
 */
import type { CheckpointTuple } from "@langchain/langgraph-checkpoint";
import { Redis } from "ioredis";
import { type RestartableRedis, type StopSignal, startRestartableRedis } from "../../scripts/local-redis.js";
import { DurabilityError, RedisSaver } from "../../src/index.js";
import { recordCounts } from "../helpers/counts.js";
import { startWriter, type WriterEvent } from "./fixtures/child.js";

const THREADS = 4;
const STEPS = 300;
const RESTARTS_PER_SIGNAL = 2;

const acks = (events: WriterEvent[]) => events.filter((e) => e.ack === "put");
const errors = (events: WriterEvent[]) => events.filter((e) => typeof e.error === "string");
const done = (events: WriterEvent[]) => events.filter((e) => e.done === true);

function expectWhole(tuple: CheckpointTuple | undefined, where: string): number {
  expect(tuple, where).toBeDefined();
  const values = (tuple as CheckpointTuple).checkpoint.channel_values as { count?: number; seen?: number[] };
  const count = values.count ?? 0;
  // every channel value the checkpoint points at is there, and agrees with the others
  expect(values.seen ?? [], where).toEqual(Array.from({ length: count }, (_, i) => i + 1));
  return count;
}

describe.each(["SIGTERM", "SIGKILL"] as StopSignal[])("Redis restarted with %s under write load", (signal) => {
  let server: RestartableRedis;
  beforeAll(async () => {
    server = await startRestartableRedis({ args: ["--appendonly", "yes", "--appendfsync", "always"] });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("keeps every acknowledged checkpoint; runs in flight fail with RedisConnectionError and resume", async (context) => {
    const keyPrefix = `restart${signal}`;
    const writer = startWriter("checkpoint-writer.ts", {
      REDIS_URL: server.url,
      KEY_PREFIX: keyPrefix,
      THREADS: String(THREADS),
      STEPS: String(STEPS),
    });
    try {
      for (let restart = 0; restart < RESTARTS_PER_SIGNAL; restart++) {
        const before = acks(writer.events).length;
        await writer.waitFor("checkpoints before the restart", (e) => acks(e).length >= before + 60, 60_000);
        await server.restart(signal);
        recordCounts(context, { faultsInjected: 1 });
      }
      expect(await writer.exit(120_000), writer.stderr()).toBe(0);
    } finally {
      writer.kill();
    }

    expect(done(writer.events)).toHaveLength(THREADS);
    const failures = errors(writer.events);
    expect(failures.length).toBeGreaterThan(0);
    expect(new Set(failures.map((e) => e.error))).toEqual(new Set(["RedisConnectionError"]));

    const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
    try {
      const saver = new RedisSaver({ client, keyPrefix });
      let missing = 0;
      for (const ack of acks(writer.events)) {
        const config = {
          configurable: {
            thread_id: ack.thread as string,
            checkpoint_ns: "",
            checkpoint_id: ack.checkpointId as string,
          },
        };
        const tuple = await saver.getTuple(config);
        if (tuple === undefined) missing++;
        else expect(expectWhole(tuple, `checkpoint ${String(ack.checkpointId)}`)).toBe(ack.count ?? 0);
      }
      recordCounts(context, { acknowledgedWritesChecked: acks(writer.events).length, failures: missing });
      expect(missing).toBe(0);

      for (let i = 0; i < THREADS; i++) {
        const thread = `t${i}`;
        let checkpoints = 0;
        for await (const tuple of saver.list({ configurable: { thread_id: thread } })) {
          expectWhole(tuple, `thread ${thread}`);
          checkpoints++;
        }
        expect(checkpoints).toBeGreaterThan(STEPS);
        const latest = await saver.getTuple({ configurable: { thread_id: thread } });
        expect(expectWhole(latest, `latest of ${thread}`)).toBe(STEPS);
      }
    } finally {
      client.disconnect();
    }
  });
});

describe("control: the same comparison without persistence", () => {
  it("finds the acknowledged checkpoints gone after SIGKILL, which durability.check would have refused", async (context) => {
    const server = await startRestartableRedis(); // appendonly no, save ""
    const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
    try {
      const saver = new RedisSaver({ client, keyPrefix: "control" });
      const ids = Array.from({ length: 20 }, (_, i) => `1f000000-0000-6000-8000-${String(i).padStart(12, "0")}`);
      for (const id of ids) {
        await saver.put(
          { configurable: { thread_id: "t", checkpoint_ns: "" } },
          { v: 4, id, ts: "2025-01-01T00:00:00.000Z", channel_values: {}, channel_versions: {}, versions_seen: {} },
          { source: "loop", step: 0, parents: {} },
          {},
        );
      }
      const strict = new RedisSaver({ client, keyPrefix: "control", durability: { check: "refuse" } });
      await expect(
        strict.putWrites(
          { configurable: { thread_id: "t", checkpoint_ns: "", checkpoint_id: ids[0] } },
          [["c", 1]],
          "x",
        ),
      ).rejects.toThrow(DurabilityError);
      await server.restart("SIGKILL");
      recordCounts(context, { faultsInjected: 1 });
      let missing = 0;
      for (const id of ids) {
        const tuple = await saver.getTuple({ configurable: { thread_id: "t", checkpoint_ns: "", checkpoint_id: id } });
        if (tuple === undefined) missing++;
      }
      expect(missing).toBe(ids.length);
    } finally {
      client.disconnect();
      await server.stop();
    }
  });
});

/**
 * The offline journal with real processes: an agent process (fixtures/offline-agent.ts) keeps writing while its
 * Redis server is killed by pid and restarted (with its AOF, and empty), while a partition (a proxy this test owns)
 * cuts it off and another process advances the same thread, while it is killed -9 in the middle of a replay, and
 * when it starts on a truncated or bit-flipped journal.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CheckpointTuple } from "@langchain/langgraph-checkpoint";
import { Redis } from "ioredis";
import {
  type LocalRedis,
  type RestartableRedis,
  startRedis,
  startRestartableRedis,
} from "../../scripts/local-redis.js";
import { RedisSaver } from "../../src/index.js";
import { recordCounts } from "../helpers/counts.js";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.js";
import { startWriter, type WriterEvent, type WriterProcess } from "./fixtures/child.js";

const dirs: string[] = [];
const writers: WriterProcess[] = [];
afterEach(() => {
  for (const writer of writers.splice(0)) writer.kill();
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function journalDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "lgr-offline-fault-"));
  dirs.push(dir);
  return dir;
}

function agent(env: Record<string, string>): WriterProcess {
  const writer = startWriter("offline-agent.ts", env);
  writers.push(writer);
  return writer;
}

interface JournalRun {
  keyPrefix: string;
  dir: string;
  threads: number;
}

/** Cuts the proxy, then starts an agent that journals `count` steps per thread and waits until it has. */
async function journalWhileCut(
  proxy: TcpProxy,
  run: JournalRun & { count: number; limitMs: number },
): Promise<WriterProcess> {
  await proxy.cut();
  const writer = agent({
    MODE: "journal",
    REDIS_URL: proxy.url,
    KEY_PREFIX: run.keyPrefix,
    JOURNAL_DIR: run.dir,
    THREADS: String(run.threads),
    COUNT: String(run.count),
  });
  await writer.waitFor("the journal written", (e) => e.some((x) => x.journaled !== undefined), run.limitMs);
  return writer;
}

/** Starts an agent that replays the journal a journalWhileCut agent left, and exits. */
function replayAgent(proxy: TcpProxy, run: JournalRun): WriterProcess {
  return agent({
    MODE: "replay",
    REDIS_URL: proxy.url,
    KEY_PREFIX: run.keyPrefix,
    JOURNAL_DIR: run.dir,
    THREADS: String(run.threads),
  });
}

const puts = (events: WriterEvent[]) => events.filter((e) => e.ack === "put");
const writesAcked = (events: WriterEvent[]) => events.filter((e) => e.ack === "writes");
const failures = (events: WriterEvent[]) => events.filter((e) => e.error !== undefined);

/** Every acknowledged checkpoint is in Redis with exactly its one task write; returns how many were missing. */
async function checkAcked(saver: RedisSaver, events: WriterEvent[], which: (e: WriterEvent) => boolean) {
  let missing = 0;
  let twice = 0;
  for (const ack of writesAcked(events).filter(which)) {
    const tuple = (await saver.getTuple({
      configurable: { thread_id: String(ack.thread), checkpoint_ns: "", checkpoint_id: String(ack.checkpointId) },
    })) as CheckpointTuple | undefined;
    if (tuple === undefined) {
      missing++;
      continue;
    }
    expect(tuple.checkpoint.channel_values).toEqual({ count: ack.count, seen: ack.count });
    const writes = tuple.pendingWrites ?? [];
    if (writes.length !== 1) twice++;
    expect(writes).toEqual([[`task-${String(ack.count)}`, "count", ack.count]]);
  }
  return { missing, twice };
}

describe.each([
  { name: "with its AOF", args: ["--appendonly", "yes", "--appendfsync", "always"], empty: false },
  { name: "empty", args: [], empty: true },
])("Redis killed by pid and restarted $name while an agent writes", ({ args, empty }) => {
  let server: RestartableRedis;
  beforeAll(async () => {
    server = await startRestartableRedis({ args });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("the agent keeps going on its journal; after the restart every acknowledged write is in Redis once", async (context) => {
    const keyPrefix = `offline${empty ? "empty" : "aof"}`;
    const writer = agent({
      MODE: "run",
      REDIS_URL: server.url,
      KEY_PREFIX: keyPrefix,
      JOURNAL_DIR: journalDir(),
      THREADS: "3",
      STEPS: "150",
      PAUSE_MS: "10",
    });
    await writer.waitFor("writes before the kill", (e) => puts(e).length >= 30, 60_000);
    await server.kill("SIGKILL");
    recordCounts(context, { faultsInjected: 1 });
    await writer.waitFor("the agent going offline", (e) => e.some((x) => x.event === "offline"), 60_000);
    const atOffline = puts(writer.events).length;
    await writer.waitFor("writes while Redis is down", (e) => puts(e).length >= atOffline + 30, 60_000);
    await server.start();
    expect(await writer.exit(120_000), writer.stderr()).toBe(0);

    expect(failures(writer.events)).toEqual([]);
    expect(writer.events.some((e) => e.done === true)).toBe(true);
    const online = writer.events.filter((e) => e.event === "online");
    expect(online.length).toBeGreaterThanOrEqual(1);
    expect(online.flatMap((e) => e.conflicts as unknown[])).toEqual([]);
    const offlineAcks = writer.events.filter((e) => e.ack !== undefined && e.state !== "online").length;
    expect(offlineAcks).toBeGreaterThan(0);

    const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
    try {
      const saver = new RedisSaver({ client, keyPrefix });
      // An empty restart loses what Redis held (its own durability); everything journaled is back. With the AOF,
      // everything acknowledged is there.
      const journaledIds = new Set(
        writer.events.filter((e) => e.ack === "put" && e.state !== "online").map((e) => e.checkpointId),
      );
      const { missing, twice } = await checkAcked(saver, writer.events, (e) =>
        empty ? journaledIds.has(e.checkpointId) : true,
      );
      recordCounts(context, { acknowledgedWritesChecked: writesAcked(writer.events).length, failures: missing });
      expect(missing).toBe(0);
      expect(twice).toBe(0);
      for (let i = 0; i < 3; i++) {
        const latest = await saver.getTuple({ configurable: { thread_id: `t${i}` } });
        expect(latest?.checkpoint.channel_values).toEqual({ count: 150, seen: 150 });
      }
    } finally {
      client.disconnect();
    }
  });
});

describe("offline journal under partitions, crashes and damage", () => {
  let server: LocalRedis;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("a partition while another process advances the same thread: the offline branch becomes a reported fork", async (context) => {
    const proxy = await startTcpProxy(server.port);
    const keyPrefix = "partition";
    try {
      const writer = agent({
        MODE: "run",
        REDIS_URL: proxy.url,
        KEY_PREFIX: keyPrefix,
        JOURNAL_DIR: journalDir(),
        THREADS: "1",
        STEPS: "60",
        PAUSE_MS: "20",
      });
      await writer.waitFor("writes before the partition", (e) => puts(e).length >= 10, 60_000);
      await proxy.cut();
      recordCounts(context, { faultsInjected: 1 });
      await writer.waitFor("the agent going offline", (e) => e.some((x) => x.event === "offline"), 60_000);
      // this process still reaches Redis and advances the agent's thread
      const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
      try {
        const other = new RedisSaver({ client, keyPrefix });
        const head = (await other.getTuple({ configurable: { thread_id: "t0" } })) as CheckpointTuple;
        const theirs = `${head.checkpoint.id}-other`;
        await other.put(
          head.config,
          {
            ...head.checkpoint,
            id: theirs,
            channel_values: { count: -1, seen: -1 },
            channel_versions: { count: 999, seen: 999 },
          },
          { source: "loop", step: -1, parents: {} },
          { count: 999, seen: 999 },
        );
        const atOffline = puts(writer.events).length;
        await writer.waitFor("writes during the partition", (e) => puts(e).length >= atOffline + 5, 60_000);
        await proxy.restore();
        expect(await writer.exit(120_000), writer.stderr()).toBe(0);
        expect(failures(writer.events)).toEqual([]);

        const conflicts = writer.events
          .filter((e) => e.event === "online")
          .flatMap(
            (e) =>
              e.conflicts as {
                threadId: string;
                forkThreadId: string;
                remoteCheckpointId: string;
                checkpointIds: string[];
              }[],
          );
        expect(conflicts).toHaveLength(1);
        const conflict = conflicts[0] as (typeof conflicts)[number];
        expect(conflict).toMatchObject({ threadId: "t0", remoteCheckpointId: theirs, reason: "advanced" });
        // the other process's checkpoint is still the head of the thread's own branch; nothing acknowledged is lost
        expect(
          (await other.getTuple({ configurable: { thread_id: "t0", checkpoint_ns: "", checkpoint_id: theirs } }))
            ?.checkpoint.channel_values,
        ).toEqual({ count: -1, seen: -1 });
        const forked = new Set(conflict.checkpointIds);
        expect(forked.size).toBeGreaterThan(0);
        let missing = 0;
        for (const ack of writesAcked(writer.events)) {
          const thread = forked.has(String(ack.checkpointId)) ? conflict.forkThreadId : "t0";
          const tuple = await other.getTuple({
            configurable: { thread_id: thread, checkpoint_ns: "", checkpoint_id: String(ack.checkpointId) },
          });
          if (tuple === undefined) missing++;
          else expect(tuple.checkpoint.channel_values).toEqual({ count: ack.count, seen: ack.count });
        }
        recordCounts(context, { acknowledgedWritesChecked: writesAcked(writer.events).length, failures: missing });
        expect(missing).toBe(0);
      } finally {
        client.disconnect();
      }
    } finally {
      await proxy.close();
    }
  });

  it("kill -9 of the agent in the middle of a replay: the next start finishes it, nothing lost or doubled", async (context) => {
    const proxy = await startTcpProxy(server.port);
    const keyPrefix = "killreplay";
    const dir = journalDir();
    try {
      const writer = await journalWhileCut(proxy, { keyPrefix, dir, threads: 4, count: 1200, limitMs: 120_000 });
      const journaled = writer.events.find((e) => e.journaled !== undefined)?.journaled;
      expect(journaled).toBe(2400);
      const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
      try {
        const saver = new RedisSaver({ client, keyPrefix });
        await proxy.restore();
        // kill it once part of the journal is in Redis
        const deadline = Date.now() + 60_000;
        let seen = 0;
        for (;;) {
          seen = 0;
          for (let i = 0; i < 4; i++) {
            const tuple = await saver.getTuple({ configurable: { thread_id: `t${i}` } });
            seen += Number((tuple?.checkpoint.channel_values as { count?: number } | undefined)?.count ?? 0);
          }
          if (seen > 0 || Date.now() > deadline) break;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        writer.kill();
        recordCounts(context, { faultsInjected: 1 });
        expect(seen).toBeGreaterThan(0);
        await writer.exit(10_000);
        // killed before it could finish the replay (2,400 records take far longer than the first one)
        expect(writer.events.some((e) => e.event === "online")).toBe(false);

        const next = replayAgent(proxy, { keyPrefix, dir, threads: 4 });
        expect(await next.exit(120_000), next.stderr()).toBe(0);
        const online = next.events.find((e) => e.event === "online");
        expect(online).toMatchObject({ conflicts: [], rejected: 0, applied: 2400 });
        const { missing, twice } = await checkAcked(saver, writer.events, () => true);
        recordCounts(context, { acknowledgedWritesChecked: writesAcked(writer.events).length, failures: missing });
        expect(missing).toBe(0);
        expect(twice).toBe(0);
        for (let i = 0; i < 4; i++) {
          let count = 0;
          for await (const _ of saver.list({ configurable: { thread_id: `t${i}` } })) count++;
          expect(count).toBe(300);
        }
        expect(readFileSync(join(dir, "saver.journal")).length).toBe(0);
      } finally {
        client.disconnect();
      }
    } finally {
      await proxy.close();
    }
  });

  it.for(["truncated", "bit-flipped"])(
    "a %s journal: the intact prefix is replayed, the rest set aside and reported",
    async (damage, context) => {
      const proxy = await startTcpProxy(server.port);
      const keyPrefix = `damaged${damage === "truncated" ? "t" : "f"}`;
      const dir = journalDir();
      try {
        const writer = await journalWhileCut(proxy, { keyPrefix, dir, threads: 1, count: 10, limitMs: 60_000 });
        writer.kill(); // crashed while offline
        await writer.exit(10_000);
        const file = join(dir, "saver.journal");
        const bytes = readFileSync(file);
        const offsets: number[] = [];
        for (let offset = 0; offset < bytes.length; offset += 8 + bytes.readUInt32BE(offset)) offsets.push(offset);
        expect(offsets).toHaveLength(20);
        // damage the 15th record (the put of step 8): records 1-14 (steps 1-7, put and writes) stay intact
        const at = offsets[14] as number;
        if (damage === "truncated") writeFileSync(file, bytes.subarray(0, at + 11));
        else {
          bytes[at + 20] = (bytes[at + 20] as number) ^ 0x01;
          writeFileSync(file, bytes);
        }
        recordCounts(context, { faultsInjected: 1 });
        await proxy.restore();
        const next = replayAgent(proxy, { keyPrefix, dir, threads: 1 });
        expect(await next.exit(60_000), next.stderr()).toBe(0);
        expect(next.events.find((e) => e.event === "corrupt")).toMatchObject({
          name: "JournalCorruptError",
          intact: 14,
        });
        expect(next.events.find((e) => e.event === "online")).toMatchObject({
          applied: 14,
          corrupt: "JournalCorruptError",
        });
        expect(readdirSync(dir).some((name) => name.startsWith("saver.journal.corrupt-"))).toBe(true);

        const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
        try {
          const saver = new RedisSaver({ client, keyPrefix });
          const counts: number[] = [];
          for await (const tuple of saver.list({ configurable: { thread_id: "t0" } })) {
            counts.push((tuple.checkpoint.channel_values as { count: number }).count);
          }
          expect(counts).toEqual([7, 6, 5, 4, 3, 2, 1]);
        } finally {
          client.disconnect();
        }
      } finally {
        await proxy.close();
      }
    },
  );
});

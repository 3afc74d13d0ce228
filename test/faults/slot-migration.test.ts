/**
 * Slots moved between masters while agents work (resharding, the way a cluster grows). First one slot held half
 * moved for longer than ioredis follows redirections (TRYAGAIN, ASK): checkpoints, pending writes and store writes
 * to that slot wait and land, none fails. A run whose lease bucket is held so keeps its lease while the move is
 * shorter than the lease, and stops when it is longer (its heartbeats cannot land), then is resumed exactly once.
 * Then the way operators do it: a fourth master added and
 * `redis-cli --cluster rebalance` under checkpoint and store load: no operation fails and every acknowledged write
 * is there afterwards.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { RunnableConfig } from "@langchain/core/runnables";
import { type Checkpoint, emptyCheckpoint } from "@langchain/langgraph-checkpoint";
import { Cluster, Redis } from "ioredis";
import { type LocalCluster, type LocalRedis, startCluster, startRedis } from "../../scripts/local-redis.js";
import { RunLeaseLostError } from "../../src/errors.js";
import { RedisSaver, RedisStore } from "../../src/index.js";
import { runLeaseMember, storeNamespaceKeys } from "../../src/keys.js";
import { findCrashedRuns } from "../../src/recovery/find-crashed-runs.js";
import { resumeCrashedRuns } from "../../src/recovery/resume-crashed-runs.js";
import { withRunLease } from "../../src/recovery/with-run-lease.js";
import { keySlot } from "../../src/slot.js";
import { recordCounts } from "../helpers/counts.js";
import {
  type Behaviour,
  FINAL_TRAIL,
  gate,
  leaseCounts,
  leaseKeysOf,
  testGraph,
  waitUntil,
} from "../recovery/helpers.js";

const execFileAsync = promisify(execFile);

/** Runs a command; a failure names what it printed. */
async function run(file: string, args: string[]): Promise<{ stdout: string }> {
  try {
    return await execFileAsync(file, args, { maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${file} ${args.join(" ")} failed:\n${stdout?.slice(-3000)}\n${stderr?.slice(-3000)}`, {
      cause: error,
    });
  }
}
const CLUSTER_NODE_ARGS = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"];

function connect(ports: number[]): Cluster {
  return new Cluster(
    ports.map((port) => ({ host: "127.0.0.1", port })),
    { clusterRetryStrategy: (times) => (times > 3 ? null : 100), redisOptions: { maxRetriesPerRequest: 2 } },
  );
}

function portsOf(cluster: LocalCluster): number[] {
  return cluster.nodes.split(",").map((address) => Number(address.split(":")[1]));
}

/** A plain connection per master port, closed by the caller. */
function nodeConnections(ports: number[]): Map<number, Redis> {
  return new Map(ports.map((port) => [port, new Redis(port, "127.0.0.1", { maxRetriesPerRequest: 2 })]));
}

async function nodeId(node: Redis): Promise<string> {
  return String(await node.cluster("MYID"));
}

/** The master port that serves `slot`, read from the cluster's own slot map. */
async function ownerOf(node: Redis, slot: number): Promise<number> {
  const ranges = (await node.cluster("SLOTS")) as unknown as [number, number, [string, number, string]][];
  const range = ranges.find(([from, to]) => slot >= from && slot <= to);
  if (!range) throw new Error(`slot ${slot} is not served`);
  return range[2][1];
}

/** Moves up to `limit` keys of `slot` from `from` to the master on `toPort`, 10 per MIGRATE as redis-cli does. */
async function moveKeys(from: Redis, toPort: number, slot: number, limit = Number.POSITIVE_INFINITY): Promise<number> {
  let moved = 0;
  while (moved < limit) {
    const keys = (await from.cluster("GETKEYSINSLOT", slot, Math.min(10, limit - moved))) as string[];
    if (keys.length === 0) break;
    await from.migrate("127.0.0.1", toPort, "", 0, 10_000, "KEYS", ...keys);
    moved += keys.length;
  }
  return moved;
}

async function errorCount(node: Redis, reply: string): Promise<number> {
  const info = await node.info("errorstats");
  return Number(new RegExp(`errorstat_${reply}:count=(\\d+)`).exec(info)?.[1] ?? 0);
}

/**
 * Starts moving `slot` from its owner to another master and moves `keys` of it (by default half its keys), so the
 * slot stays half moved until `finish` moves the rest and gives it to the new owner on every master. `turnedAway`
 * counts the TRYAGAIN and ASK replies both sides have sent so far.
 */
async function holdSlotHalfMoved(nodes: Map<number, Redis>, slot: number, keys?: string[]) {
  const first = nodes.values().next().value as Redis;
  const fromPort = await ownerOf(first, slot);
  const toPort = [...nodes.keys()].find((port) => port !== fromPort) as number;
  const from = nodes.get(fromPort) as Redis;
  const to = nodes.get(toPort) as Redis;
  const [fromId, toId] = await Promise.all([nodeId(from), nodeId(to)]);
  const turnedAway = async () => {
    let count = 0;
    for (const node of [from, to]) count += (await errorCount(node, "TRYAGAIN")) + (await errorCount(node, "ASK"));
    return count;
  };
  await to.cluster("SETSLOT", slot, "IMPORTING", fromId);
  await from.cluster("SETSLOT", slot, "MIGRATING", toId);
  if (keys) {
    await from.migrate("127.0.0.1", toPort, "", 0, 10_000, "KEYS", ...keys);
  } else {
    await moveKeys(from, toPort, slot, Math.floor(Number(await from.cluster("COUNTKEYSINSLOT", slot)) / 2));
  }
  const finish = async () => {
    await moveKeys(from, toPort, slot);
    for (const node of nodes.values()) await node.cluster("SETSLOT", slot, "NODE", toId);
  };
  return { from, toPort, turnedAway, finish };
}

/** Runs `use` with a cluster client and a plain connection per master, and closes them after it. */
async function withConnections(
  ports: number[],
  use: (client: Cluster, nodes: Map<number, Redis>) => Promise<void>,
): Promise<void> {
  const client = connect(ports);
  const nodes = nodeConnections(ports);
  try {
    await use(client, nodes);
  } finally {
    client.disconnect();
    for (const node of nodes.values()) node.disconnect();
  }
}

/** The recovery tests' graph under a run lease, checkpointed by RedisSaver; `started()` once its node b1 runs. */
function leasedGraph(
  client: Cluster,
  keyPrefix: string,
  b1: Behaviour,
  lease: { leaseMs: number; heartbeatMs?: number },
) {
  let started = false;
  const checkpointer = new RedisSaver({ client, keyPrefix });
  const graph = testGraph({
    checkpointer,
    behaviour: { b1 },
    onStart: (node) => {
      if (node === "b1") started = true;
    },
  });
  const app = withRunLease(graph, { client, keyPrefix, name: "g", ...lease });
  return { app, checkpointer, started: () => started };
}

/** What a run ended with: undefined when it finished, else its error (never rejects). */
function outcomeOf(run: Promise<unknown>): Promise<unknown> {
  return run.then(
    () => undefined,
    (error: unknown) => error,
  );
}

function checkpoint(step: number): Checkpoint {
  const cp = emptyCheckpoint();
  cp.channel_values = { step, note: `step ${step} `.repeat(20) };
  cp.channel_versions = { step: step + 1, note: step + 1 };
  return cp;
}

async function putStep(saver: RedisSaver, config: RunnableConfig, step: number): Promise<RunnableConfig> {
  const cp = checkpoint(step);
  const next = await saver.put(config, cp, { source: "loop", step, parents: {} }, cp.channel_versions);
  await saver.putWrites(next, [["step", step]], `task-${step}`);
  return next;
}

describe("slots moved between masters while agents work", () => {
  let cluster: LocalCluster;
  let extra: LocalRedis | undefined;
  beforeAll(async () => {
    cluster = await startCluster(3);
  });
  afterAll(async () => {
    await cluster?.stop();
    await extra?.stop();
  });

  it("a slot held half moved: checkpoints, writes and store calls wait for it and land", async (context) => {
    await withConnections(portsOf(cluster), async (client, nodes) => {
      const keyPrefix = "held";
      const namespace = ["orders"];
      const slot = keySlot(storeNamespaceKeys(keyPrefix, namespace).items);
      // A thread whose keys share the namespace's slot, so one migration holds both.
      let threadId = "";
      for (let i = 0; threadId === ""; i++) if (keySlot(`{thread-${i}}`) === slot) threadId = `thread-${i}`;
      const saver = new RedisSaver({ client, keyPrefix });
      const store = new RedisStore({ client, keyPrefix });
      let config: RunnableConfig = { configurable: { thread_id: threadId, checkpoint_ns: "" } };
      for (let step = 0; step < 3; step++) config = await putStep(saver, config, step);
      await Promise.all(Array.from({ length: 200 }, (_, i) => store.put(namespace, `o${i}`, { n: i })));

      const first = nodes.values().next().value as Redis;
      const moving = await holdSlotHalfMoved(nodes, slot);
      const { from, toPort, turnedAway } = moving;
      const before = await turnedAway();

      // Calls made while the slot is half moved: each is turned away until the move ends.
      const calls = {
        checkpoint: putStep(saver, config, 3),
        read: saver.getTuple({ configurable: { thread_id: threadId } }),
        newItem: store.put(namespace, "new", { n: -1 }),
        update: store.put(namespace, "o7", { n: 7, seen: true }),
        batch: store.batch([
          { namespace, key: "o8" },
          { namespace, key: "o9", value: { n: 9, seen: true } },
        ]),
        search: store.search(namespace, { filter: { n: 3 } }),
      };
      // Held longer than ioredis follows redirections on its own (maxRedirections 16, about a second here).
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      await moving.finish();
      const settled = await Promise.allSettled(Object.values(calls));
      const failed = settled.flatMap((result) => (result.status === "rejected" ? [String(result.reason)] : []));
      expect(failed).toEqual([]);
      // The new item's history key is on neither side: its write was turned away (TRYAGAIN) until the move ended.
      expect(await turnedAway()).toBeGreaterThan(before);

      // Everything landed on the new owner.
      expect(await ownerOf(first, slot)).toBe(toPort);
      const latest = await saver.getTuple({ configurable: { thread_id: threadId } });
      expect(latest?.checkpoint.channel_values).toMatchObject({ step: 3 });
      expect(latest?.pendingWrites).toEqual([["task-3", "step", 3]]);
      expect((await store.get(namespace, "new"))?.value).toEqual({ n: -1 });
      expect((await store.get(namespace, "o7"))?.value).toEqual({ n: 7, seen: true });
      expect((await store.get(namespace, "o9"))?.value).toEqual({ n: 9, seen: true });
      expect(Number(await from.cluster("COUNTKEYSINSLOT", slot))).toBe(0);
      recordCounts(context, { faultsInjected: 1, acknowledgedWritesChecked: 4 });
    });
  });

  it("a run's lease slot held half moved for less than its lease: the heartbeats wait, the run keeps its lease", async (context) => {
    await withConnections(portsOf(cluster), async (client, nodes) => {
      const keyPrefix = "lease-held";
      const threadId = "order-1";
      const lease = leaseKeysOf(keyPrefix, "g", threadId);
      const member = runLeaseMember(threadId, "");
      const hold = gate();
      const { app, started } = leasedGraph(
        client,
        keyPrefix,
        { until: hold.opened },
        { leaseMs: 8_000, heartbeatMs: 300 },
      );
      const run = app.invoke({ input: 7 }, { configurable: { thread_id: threadId } });
      const ended = outcomeOf(run);
      await waitUntil(started, 10);
      // The lease index moves, the holders hash stays: a heartbeat names both, and is turned away (TRYAGAIN).
      const moving = await holdSlotHalfMoved(nodes, keySlot(lease.index), [lease.index]);
      const before = await moving.turnedAway();
      // Several heartbeats fall in the move, which lasts well under the lease.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      const turnedAway = (await moving.turnedAway()) - before;
      await moving.finish();
      const expiry = await client.zscore(lease.index, member);
      await waitUntil(async () => (await client.zscore(lease.index, member)) !== expiry, 20);
      hold.open();
      expect(await ended).toBeUndefined();
      expect((await run).trail).toEqual(FINAL_TRAIL);
      expect(turnedAway).toBeGreaterThan(0);
      expect(await findCrashedRuns(app)).toEqual([]);
      expect((await leaseCounts(client, keyPrefix, "g")).index).toBe(0);
      recordCounts(context, { faultsInjected: 1, acknowledgedWritesChecked: 1 });
    });
  });

  it("a run's lease slot held half moved past its lease: the run stops, and is resumed exactly once after", async (context) => {
    await withConnections(portsOf(cluster), async (client, nodes) => {
      const keyPrefix = "lease-lost";
      const threadId = "order-2";
      const lease = leaseKeysOf(keyPrefix, "g", threadId);
      const { app, checkpointer, started } = leasedGraph(client, keyPrefix, "block", { leaseMs: 1_000 });
      const ended = outcomeOf(app.invoke({ input: 7 }, { configurable: { thread_id: threadId } }));
      await waitUntil(started, 10);
      const moving = await holdSlotHalfMoved(nodes, keySlot(lease.index), [lease.index]);
      // No heartbeat lands while the slot is held: the run's watchdog ends it a lease period after the last one.
      const error = await ended;
      await moving.finish();
      expect(error).toBeInstanceOf(RunLeaseLostError);

      const executions = new Map<string, number>();
      const recoverer = (owner: string) =>
        withRunLease(testGraph({ checkpointer, executions }), { client, keyPrefix, name: "g", owner });
      await waitUntil(async () => (await findCrashedRuns(recoverer("probe"), { prune: false })).length === 1);
      const reports = await Promise.all(["r1", "r2"].map((owner) => resumeCrashedRuns(recoverer(owner))));
      expect(reports.reduce((sum, report) => sum + report.resumed, 0)).toBe(1);
      expect(reports.flatMap((report) => report.results.filter((result) => result.outcome === "failed"))).toEqual([]);
      expect(Object.fromEntries(executions)).toEqual({ [`${threadId}:b1`]: 1, [`${threadId}:c`]: 1 });
      expect((await recoverer("reader").getState({ configurable: { thread_id: threadId } })).values.trail).toEqual(
        FINAL_TRAIL,
      );
      expect((await leaseCounts(client, keyPrefix, "g")).index).toBe(0);
      recordCounts(context, { faultsInjected: 1, acknowledgedWritesChecked: 1 });
    });
  });

  it("a master added and the slots rebalanced under load: no call fails, no acknowledged write is lost", async (context) => {
    const ports = portsOf(cluster);
    extra = await startRedis([...CLUSTER_NODE_ARGS, "--cluster-node-timeout", "2000"]);
    const client = connect(ports);
    const failures: string[] = [];
    const acked: RunnableConfig[] = [];
    const items = new Map<string, number>();
    let stop = false;
    try {
      const keyPrefix = "grow";
      const saver = new RedisSaver({ client, keyPrefix });
      const store = new RedisStore({ client, keyPrefix });
      // A large namespace: its slot takes the longest to move.
      const namespace = ["tickets"];
      for (let i = 0; i < 2_000; i += 200) {
        await Promise.all(Array.from({ length: 200 }, (_, k) => store.put(namespace, `k${i + k}`, { n: i + k })));
      }
      const worker = async (w: number) => {
        let config: RunnableConfig = { configurable: { thread_id: `agent-${w}`, checkpoint_ns: "" } };
        for (let step = 0; !stop; step++) {
          try {
            config = await putStep(saver, config, step);
            acked.push(config);
            // Keys of its own per worker, so the last write acknowledged for a key is the last applied.
            const key = `k${w + 24 * (step % 80)}`;
            await store.put(namespace, key, { n: step, by: w });
            items.set(key, step * 1_000 + w);
            if (step % 4 === 0) await saver.getTuple({ configurable: { thread_id: `agent-${w}` } });
          } catch (error) {
            failures.push(`${(error as Error).name}: ${(error as Error).message}`);
          }
        }
      };
      const workers = Array.from({ length: 24 }, (_, w) => worker(w));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const newNode = `127.0.0.1:${extra.port}`;
      await run("redis-cli", ["--cluster", "add-node", newNode, `127.0.0.1:${ports[0]}`]);
      // Every node must know the new master, and the new master the whole cluster (cluster_state:ok: until then it
      // refuses the keys MIGRATE brings it with CLUSTERDOWN), before slots move to it.
      const deadline = performance.now() + 30_000;
      const ready = async (port: number) => {
        if (port === extra?.port) {
          const { stdout } = await run("redis-cli", ["-p", String(port), "cluster", "info"]);
          return stdout.includes("cluster_state:ok") && stdout.includes(`cluster_known_nodes:${ports.length + 1}`);
        }
        const { stdout } = await run("redis-cli", ["-p", String(port), "cluster", "nodes"]);
        return stdout.includes(`:${extra?.port}@`) && !/handshake|noaddr/.test(stdout);
      };
      for (const port of [...ports, extra.port]) {
        while (!(await ready(port))) {
          if (performance.now() > deadline) throw new Error(`node ${port} did not take the new master in`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      await run("redis-cli", ["--cluster", "rebalance", `127.0.0.1:${ports[0]}`, "--cluster-use-empty-masters"]);
      await new Promise((resolve) => setTimeout(resolve, 500));
      stop = true;
      await Promise.all(workers);

      expect(failures).toEqual([]);
      const newMaster = new Redis(extra.port, "127.0.0.1");
      try {
        const owners = new Set(
          ((await newMaster.cluster("SLOTS")) as unknown as [number, number, [string, number]][]).map(
            (range) => range[2][1],
          ),
        );
        expect(owners).toContain(extra.port);
        expect(Number(await newMaster.dbsize())).toBeGreaterThan(0);
      } finally {
        newMaster.disconnect();
      }
      let missing = 0;
      for (const config of acked) if ((await saver.getTuple(config)) === undefined) missing++;
      expect(missing).toBe(0);
      for (const [key, written] of items) {
        const value = (await store.get(namespace, key))?.value as { n: number; by: number } | undefined;
        expect(value && value.n * 1_000 + value.by, key).toBe(written);
      }
      recordCounts(context, { faultsInjected: 1, acknowledgedWritesChecked: acked.length + items.size });
    } finally {
      stop = true;
      client.disconnect();
    }
  });
});

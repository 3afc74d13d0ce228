/**
 * Redis Cluster with replicas: a master killed (SIGKILL) under checkpoint load, its replica promoted, and the runs
 * carry on. Without waiting, replication is asynchronous, so checkpoints acknowledged just before the kill may be
 * missing after the failover (counted and printed, see docs/operations.md); with durability.waitForReplicas = 1
 * every acknowledged checkpoint must survive.
 */
import { Cluster } from "ioredis";
import { type ReplicatedCluster, startReplicatedCluster } from "../../scripts/local-redis.js";
import { RedisSaver } from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { recordCounts } from "../helpers/counts.js";
import { startWriter, type WriterEvent } from "./fixtures/child.js";

const THREADS = 6;
const STEPS = 250;

const acks = (events: WriterEvent[]) => events.filter((e) => e.ack === "put");

function connectCluster(cluster: ReplicatedCluster): Cluster {
  return new Cluster(
    cluster.nodes.split(",").map((hostPort) => ({ host: "127.0.0.1", port: Number(hostPort.split(":")[1]) })),
    { redisOptions: { maxRetriesPerRequest: 2 } },
  );
}

async function missingAcknowledged(cluster: ReplicatedCluster, keyPrefix: string, events: WriterEvent[]) {
  const client = connectCluster(cluster);
  try {
    const saver = new RedisSaver({ client, keyPrefix });
    let missing = 0;
    for (const ack of acks(events)) {
      const tuple = await saver.getTuple({
        configurable: { thread_id: ack.thread as string, checkpoint_ns: "", checkpoint_id: ack.checkpointId as string },
      });
      if (tuple === undefined) missing++;
    }
    const finished: number[] = [];
    for (let i = 0; i < THREADS; i++) {
      const latest = await saver.getTuple({ configurable: { thread_id: `t${i}` } });
      finished.push((latest?.checkpoint.channel_values as { count?: number } | undefined)?.count ?? 0);
    }
    return { missing, finished };
  } finally {
    client.disconnect();
  }
}

describe("Redis Cluster with replicas: a master killed under load", () => {
  let cluster: ReplicatedCluster;
  beforeAll(async () => {
    cluster = await startReplicatedCluster({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 2000 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  for (const waitForReplicas of [0, 1]) {
    const label = waitForReplicas ? "with waitForReplicas 1: no acknowledged checkpoint lost" : "without waiting";
    it(`fails over and the runs carry on, ${label}`, async (context) => {
      const keyPrefix = `failover${waitForReplicas}`;
      // kill the master that serves thread t0, so the failover hits runs in flight
      const victim = await cluster.masterPortForKey(saverThreadKeys(keyPrefix, "t0").checkpoints);
      const writer = startWriter("checkpoint-writer.ts", {
        CLUSTER_NODES: cluster.nodes,
        KEY_PREFIX: keyPrefix,
        THREADS: String(THREADS),
        STEPS: String(STEPS),
        WAIT_REPLICAS: String(waitForReplicas),
      });
      let acknowledgedAtKill = 0;
      try {
        await writer.waitFor("checkpoints before the kill", (e) => acks(e).length >= 100, 60_000);
        acknowledgedAtKill = acks(writer.events).length;
        await cluster.kill(victim, "SIGKILL");
        recordCounts(context, { faultsInjected: 1 });
        await cluster.waitForPromotion(victim);
        // the killed node comes back as the promoted master's replica (until then, waiting writes to its slots
        // cannot get a replica's acknowledgement and fail with DurabilityError)
        await cluster.rejoin(victim);
        expect(await writer.exit(150_000), writer.stderr()).toBe(0);
      } finally {
        writer.kill();
      }
      // operations continued after the failover: every run finished, with checkpoints acknowledged after the kill
      expect(writer.events.filter((e) => e.done === true)).toHaveLength(THREADS);
      expect(acks(writer.events).length).toBeGreaterThan(acknowledgedAtKill);
      const named = waitForReplicas > 0 ? ["RedisConnectionError", "DurabilityError"] : ["RedisConnectionError"];
      const unexpected = writer.events.filter((e) => typeof e.error === "string" && !named.includes(e.error));
      expect(unexpected).toEqual([]);

      const { missing, finished } = await missingAcknowledged(cluster, keyPrefix, writer.events);
      recordCounts(context, { acknowledgedWritesChecked: acks(writer.events).length });
      process.stdout.write(
        `failover (waitForReplicas ${waitForReplicas}): ${acks(writer.events).length} acknowledged checkpoints, ` +
          `${missing} missing after the failover\n`,
      );
      expect(finished).toEqual(Array.from({ length: THREADS }, () => STEPS));
      if (waitForReplicas > 0) {
        recordCounts(context, { failures: missing });
        expect(missing).toBe(0);
      }
    });
  }

  it("makes the asynchronous-replication loss window visible, and waitForReplicas closes it", async (context) => {
    const keyPrefix = "window";
    const thread = "w0";
    const client = connectCluster(cluster);
    try {
      const plain = new RedisSaver({ client, keyPrefix });
      const waiting = new RedisSaver({
        client,
        keyPrefix: `${keyPrefix}w`,
        durability: { waitForReplicas: 1, waitTimeoutMs: 300 },
      });
      const config = (id: string) => ({ configurable: { thread_id: thread, checkpoint_ns: "", checkpoint_id: id } });
      const put = (saver: RedisSaver, id: string) =>
        saver.put({ configurable: { thread_id: thread, checkpoint_ns: "" } }, checkpoint(id), meta, {});
      // both savers' thread keys live on one master (same thread id, same hash tag)
      const master = await cluster.masterPortForKey(saverThreadKeys(keyPrefix, thread).checkpoints);
      expect(await cluster.masterPortForKey(saverThreadKeys(`${keyPrefix}w`, thread).checkpoints)).toBe(master);

      await put(plain, "replicated");
      await put(waiting, "replicated");
      // cut the replication link: the master now acknowledges writes its replica never sees
      await cluster.isolateReplicas(master);
      const lostIds = ["a1", "a2", "a3", "a4", "a5"];
      for (const id of lostIds) await put(plain, id);
      for (const id of lostIds) await expect(put(waiting, id)).rejects.toThrow(/0 of 1 replicas acknowledged/);

      await cluster.kill(master, "SIGKILL");
      recordCounts(context, { faultsInjected: 2 });
      await cluster.waitForPromotion(master);

      expect(await plain.getTuple(config("replicated"))).toBeDefined();
      expect(await waiting.getTuple(config("replicated"))).toBeDefined();
      const lost = [];
      for (const id of lostIds) if ((await plain.getTuple(config(id))) === undefined) lost.push(id);
      recordCounts(context, { acknowledgedWritesChecked: lostIds.length + 2 });
      process.stdout.write(
        `replication window: ${lost.length} of ${lostIds.length} acknowledged checkpoints lost without waiting; ` +
          "0 acknowledged with waitForReplicas\n",
      );
      // without waiting, acknowledged checkpoints were lost in the window; with waiting none was acknowledged
      expect(lost).toEqual(lostIds);
      await cluster.rejoin(master);
    } finally {
      client.disconnect();
    }
  });
});

const meta = { source: "loop", step: 0, parents: {} } as const;

function checkpoint(id: string) {
  return { v: 4, id, ts: new Date(0).toISOString(), channel_values: {}, channel_versions: {}, versions_seen: {} };
}

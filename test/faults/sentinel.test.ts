/**
 * Redis Sentinel: a master with two replicas watched by three sentinels, agents writing checkpoints through the
 * ioredis Sentinel client a `redis+sentinel://` URL opens, with `durability: { waitForReplicas: 1 }`. A master
 * killed (SIGKILL) and a failover asked of the sentinels (SENTINEL FAILOVER, as for a planned switchover): calls
 * fail at most with RedisConnectionError (no master) or DurabilityError (a master no replica follows), the client
 * follows the sentinels to the promoted replica, and the agents go on writing there. After a kill (and one
 * promotion) every acknowledged checkpoint is there. After SENTINEL FAILOVER the old master stays a master, still
 * followed by the other replica, until the sentinels turn it into a replica (about 11 s): what it acknowledged
 * meanwhile is lost, and the test counts it (docs/operations.md, "Sentinel").
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import { type Checkpoint, emptyCheckpoint } from "@langchain/langgraph-checkpoint";
import { Redis } from "ioredis";
import { type LocalRedis, type LocalSentinels, startRedis, startSentinels } from "../../scripts/local-redis.js";
import { clientFromUrl, DurabilityError, RedisConnectionError, RedisSaver } from "../../src/index.js";
import { recordCounts } from "../helpers/counts.js";

const AGENTS = 8;

function checkpoint(step: number): Checkpoint {
  const cp = emptyCheckpoint();
  cp.channel_values = { step };
  cp.channel_versions = { step: step + 1 };
  return cp;
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Whether the server on `port` answers as a master (false when it is a replica or does not answer). */
async function isMaster(port: number): Promise<boolean> {
  const probe = new Redis(port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on("error", () => undefined);
  try {
    return (await probe.info("replication")).includes("role:master");
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

describe.each(["SENTINEL FAILOVER", "SIGKILL"] as const)("Redis Sentinel: the master fails over (%s)", (how) => {
  let servers: LocalRedis[] = [];
  let sentinels: LocalSentinels | undefined;
  beforeAll(async () => {
    // Replicas sync at once instead of after the default 5 s delay (a replica that never synced can be promoted).
    const sync = ["--repl-diskless-sync-delay", "0"];
    const master = await startRedis(sync);
    servers = [master];
    for (let i = 0; i < 2; i++) {
      servers.push(await startRedis([...sync, "--replicaof", "127.0.0.1", String(master.port)]));
    }
    for (const replica of servers.slice(1)) {
      const probe = new Redis(replica.port, "127.0.0.1");
      try {
        await until("a replica in sync", 30_000, async () =>
          (await probe.info("replication")).includes("master_link_status:up"),
        );
      } finally {
        probe.disconnect();
      }
    }
    sentinels = await startSentinels(master.port, 2);
  });
  afterAll(async () => {
    await sentinels?.stop();
    await Promise.all(servers.map((server) => server.stop()));
  });

  it("agents follow the sentinels to the promoted replica and go on writing", async (context) => {
    const group = sentinels as LocalSentinels;
    const oldMaster = await group.masterPort();
    // The client a redis+sentinel:// URL opens: ioredis `sentinels` and `name`, the group's master asked of them.
    const hosts = group.ports.map((port) => `127.0.0.1:${port}`).join(",");
    const client = clientFromUrl(`redis+sentinel://${hosts}/${group.name}`, { maxRetriesPerRequest: 2 });
    // Its connection errors reach the calls (counted below); the event would only print them again.
    client.on("error", () => undefined);
    const saver = new RedisSaver({
      client,
      keyPrefix: `sentinel${how.replace(/\W/g, "")}`,
      durability: { waitForReplicas: 1, waitTimeoutMs: 200 },
    });
    const acked: { config: RunnableConfig; at: number }[] = [];
    const failures: unknown[] = [];
    let stop = false;
    try {
      const agent = async (index: number) => {
        let config: RunnableConfig = { configurable: { thread_id: `agent-${index}`, checkpoint_ns: "" } };
        for (let step = 0; !stop; step++) {
          try {
            const cp = checkpoint(step);
            config = await saver.put(config, cp, { source: "loop", step, parents: {} }, cp.channel_versions);
            acked.push({ config, at: performance.now() });
            await saver.putWrites(config, [["step", step]], `task-${step}`);
          } catch (error) {
            failures.push(error);
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
      };
      const agents = Array.from({ length: AGENTS }, (_, index) => agent(index));
      await until("the first checkpoints", 10_000, () => acked.length >= 50);

      const sentinel = new Redis(group.ports[0] as number, "127.0.0.1");
      try {
        if (how === "SIGKILL")
          process.kill(servers.find((server) => server.port === oldMaster)?.pid as number, "SIGKILL");
        else {
          await sentinel.call("SENTINEL", "FAILOVER", group.name);
        }
      } finally {
        sentinel.disconnect();
      }
      const failedOver = performance.now();
      // The sentinels' master, watched until the end: under load they may give up a promotion (failover-timeout)
      // and promote the other replica, and what the first one acknowledged is then lost as after SENTINEL FAILOVER.
      const switches: { port: number; at: number }[] = [];
      const watching = (async () => {
        let last = oldMaster;
        while (!stop) {
          const port = await group.masterPort().catch(() => last);
          if (port !== last) switches.push({ port, at: performance.now() });
          last = port;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      await until("a replica promoted", 30_000, () => switches.length > 0);
      // Every node named master before the last one (the old master, a replica promoted first) goes on taking
      // writes until it is dead or turned into a replica; acknowledgements sent before then can arrive a little
      // later: count from 2 s after.
      let settledFor = 0;
      let settledAt = Number.POSITIVE_INFINITY;
      let formerMastersGoneAt = 0;
      await until("checkpoints on the promoted replica", 90_000, async () => {
        if (settledFor !== switches.length) {
          const formers = [oldMaster, ...switches.slice(0, -1).map((change) => change.port)];
          if ((await Promise.all(formers.map(isMaster))).some(Boolean)) return false;
          settledFor = switches.length;
          formerMastersGoneAt = performance.now();
          settledAt = formerMastersGoneAt + 2_000;
        }
        return acked.filter((ack) => ack.at > settledAt).length >= 200;
      });
      stop = true;
      await Promise.all([...agents, watching]);
      const promoted = (switches.at(-1) as { port: number }).port;

      // What failed, failed as "no master" or "not on a replica": never acknowledged.
      expect(
        failures.filter((error) => !(error instanceof RedisConnectionError || error instanceof DurabilityError)),
      ).toEqual([]);
      const direct = new Redis(promoted, "127.0.0.1");
      try {
        expect(((await direct.role()) as [string])[0]).toBe("master");
        const reader = new RedisSaver({ client: direct, keyPrefix: saver.keyPrefix });
        const missing = [];
        for (const ack of acked) if ((await reader.getTuple(ack.config)) === undefined) missing.push(ack);
        console.log(
          `${how}: ${acked.length} checkpoints acknowledged, ${failures.length} calls failed; the old master took ` +
            `writes for ${Math.round(formerMastersGoneAt - failedOver)} ms after the failover began; masters named ` +
            `since: ${switches.map((change) => change.port).join(", ")}; ${missing.length} acknowledged ` +
            "checkpoints are missing on the promoted replica",
        );
        // A killed master takes nothing more, and with one promotion nothing acknowledged is lost; after SENTINEL
        // FAILOVER (or a second promotion) the old master went on acknowledging writes, replicated to the other
        // replica that still followed it, until the sentinels turned it into a replica.
        if (how === "SIGKILL" && switches.length === 1) expect(missing).toEqual([]);
        expect(missing.filter((ack) => ack.at > settledAt)).toEqual([]);
        recordCounts(context, { faultsInjected: 1, acknowledgedWritesChecked: acked.length });
      } finally {
        direct.disconnect();
      }
    } finally {
      stop = true;
      client.disconnect();
    }
  });
});

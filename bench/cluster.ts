/**
 * The cluster section: a throwaway 3-master Redis Cluster (started as the test harness starts one, or
 * REDIS_CLUSTER_NODES), 10,000 threads each written by RedisSaver (a first checkpoint, then an incremental one,
 * with one task's pending writes), spread uniformly by thread id. Per master it reads INFO commandstats (commands
 * received from clients, and commands run inside scripts) and INFO cpu, and prints the busiest master against the
 * least busy: with no hot key the three masters share the load evenly.
 */
import { randomUUID } from "node:crypto";
import { Cluster, type Redis } from "ioredis";
import { type LocalCluster, startCluster } from "../scripts/local-redis.js";
import { RedisSaver } from "../src/index.js";
import { THREAD_BUCKETS, threadRegistryKeys } from "../src/keys.js";
import { keySlot } from "../src/slot.js";
import type { BenchContext } from "./context.js";
import { deleteKeys } from "./keyspace.js";
import { CheckpointSequence, typicalStep, typicalWrites } from "./payloads.js";
import type { Column } from "./results.js";
import { putStep, threadConfig, versionsOf } from "./saver.js";
import { ratio } from "./stats.js";
import { nowMs } from "./timing.js";

const THREADS = 10_000;
const IN_FLIGHT = 200;

/** Commands a master counts for its own bookkeeping or for this section's reads, not for the workload. */
const NOT_WORKLOAD = new Set(["info", "config", "cluster", "command", "ping", "hello", "client", "readonly", "scan"]);

interface MasterLoad {
  readonly address: string;
  /** Commands sent by clients (EVALSHA and plain commands). */
  sent: number;
  /** Commands run inside Lua scripts. */
  inScripts: number;
  redisCpuUs: number;
}

const COLUMNS: readonly Column[] = [
  { key: "master", label: "Master", kind: "text" },
  { key: "slots", label: "Slots", kind: "text" },
  { key: "sent", label: "Commands from clients", kind: "int" },
  { key: "inScripts", label: "Commands in Lua", kind: "int" },
  { key: "cpuMs", label: "Redis CPU (ms)", kind: "decimal" },
  { key: "share", label: "Share of commands", kind: "ratio" },
  { key: "note", label: "Holds", kind: "text" },
];

async function masterStats(node: Redis): Promise<{ sent: number; inScripts: number; cpuUs: number }> {
  const [stats, cpu] = await Promise.all([node.info("commandstats"), node.info("cpu")]);
  let sent = 0;
  let inScripts = 0;
  for (const match of stats.matchAll(/cmdstat_([\w|]+):calls=(\d+)/g)) {
    const name = (match[1] as string).toLowerCase();
    if (NOT_WORKLOAD.has(name)) continue;
    const calls = Number(match[2]);
    if (name === "evalsha" || name === "eval") sent += calls;
    else inScripts += calls;
  }
  const user = Number(/used_cpu_user:([\d.]+)/.exec(cpu)?.[1] ?? 0);
  const sys = Number(/used_cpu_sys:([\d.]+)/.exec(cpu)?.[1] ?? 0);
  return { sent, inScripts, cpuUs: (user + sys) * 1e6 };
}

function clusterNodesFromEnv(): { host: string; port: number }[] | undefined {
  const raw = process.env.REDIS_CLUSTER_NODES;
  if (!raw) return undefined;
  return raw.split(",").map((hostPort) => {
    const [host = "127.0.0.1", port = "6379"] = hostPort.trim().split(":");
    return { host, port: Number(port) };
  });
}

export async function clusterSection(ctx: BenchContext): Promise<void> {
  const table = ctx.recorder.table(
    "cluster",
    `3-master cluster: ${THREADS.toLocaleString("en-US")} threads written uniformly, load per master`,
    COLUMNS,
  );
  let local: LocalCluster | undefined;
  let nodes = clusterNodesFromEnv();
  if (nodes === undefined) {
    ctx.progress.step("starting a throwaway 3-master cluster");
    local = await startCluster(3);
    nodes = local.servers.map((s) => ({ host: "127.0.0.1", port: s.port }));
    ctx.progress.step(`cluster up on ports ${nodes.map((n) => n.port).join(", ")}`);
  }
  const cluster = new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
  const keyPrefix = ctx.keyPrefix("cluster");
  try {
    const saver = new RedisSaver({ client: cluster, keyPrefix });
    await saver.getTuple(threadConfig("warm-up"));
    const masters = cluster.nodes("master");
    const run = randomUUID().slice(0, 8);
    const threadIds = Array.from({ length: THREADS }, (_, i) => `cluster-${run}-${i}`);

    // Warm every master's script cache (a first EVALSHA per master loads the script) before counting.
    for (const threadId of threadIds.slice(0, 30)) await writeThread(saver, `${threadId}-warm`);
    await Promise.all(masters.map((m) => m.config("RESETSTAT")));
    const before = await Promise.all(masters.map(masterStats));

    ctx.progress.step(`writing ${THREADS.toLocaleString("en-US")} threads, ${IN_FLIGHT} in flight`);
    const started = nowMs();
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < threadIds.length) {
          const threadId = threadIds[next++] as string;
          await writeThread(saver, threadId);
        }
      }),
    );
    const elapsedMs = nowMs() - started;
    const after = await Promise.all(masters.map(masterStats));

    const slotRanges = (await cluster.cluster("SLOTS")) as unknown as [number, number, [string, number]][];
    // The cross-thread index is spread over THREAD_BUCKETS buckets: the slot of each bucket's key.
    const indexSlots = Array.from({ length: THREAD_BUCKETS }, (_, bucket) =>
      keySlot(threadRegistryKeys(keyPrefix, bucket).updated),
    );
    const loads: MasterLoad[] = masters.map((m, i) => ({
      address: `${m.options.host}:${m.options.port}`,
      sent: (after[i]?.sent ?? 0) - (before[i]?.sent ?? 0),
      inScripts: (after[i]?.inScripts ?? 0) - (before[i]?.inScripts ?? 0),
      redisCpuUs: (after[i]?.cpuUs ?? 0) - (before[i]?.cpuUs ?? 0),
    }));
    const totalCommands = loads.reduce((sum, l) => sum + l.sent + l.inScripts, 0);
    for (const load of loads) {
      const [host, port] = load.address.split(":");
      const ranges = slotRanges
        .filter(([, , [h, p]]) => h === host && String(p) === port)
        .map(([from, to]) => `${from}-${to}`)
        .join(" ");
      const indexBuckets = indexSlots.filter((slot) =>
        slotRanges.some(([from, to, [h, p]]) => h === host && String(p) === port && slot >= from && slot <= to),
      ).length;
      table.rows.push({
        master: load.address,
        slots: ranges,
        sent: load.sent,
        inScripts: load.inScripts,
        cpuMs: load.redisCpuUs / 1000,
        share: ratio(load.sent + load.inScripts, totalCommands / loads.length),
        note: `${indexBuckets} of ${THREAD_BUCKETS} cross-thread index buckets`,
      });
    }
    const commands = loads.map((l) => l.sent + l.inScripts);
    const cpu = loads.map((l) => l.redisCpuUs);
    const commandsRatio = ratio(Math.max(...commands), Math.min(...commands));
    const sentRatio = ratio(Math.max(...loads.map((l) => l.sent)), Math.min(...loads.map((l) => l.sent)));
    const cpuRatio = ratio(Math.max(...cpu), Math.min(...cpu));
    ctx.recorder.metric("cluster.commandsBusiestOverLeast", commandsRatio);
    ctx.recorder.metric("cluster.sentBusiestOverLeast", sentRatio);
    ctx.recorder.metric("cluster.redisCpuBusiestOverLeast", cpuRatio);
    ctx.recorder.metric("cluster.putsPerSec", (THREADS * 2) / (elapsedMs / 1000));
    table.notes.push(
      `Busiest / least busy master: ${commandsRatio.toFixed(2)}x the commands (all of them), ` +
        `${sentRatio.toFixed(2)}x the commands from clients, ${cpuRatio.toFixed(2)}x the Redis CPU.`,
      `Each thread: 2 puts (a typical step, then an incremental one) and 1 putWrites (one task, 2 writes); ` +
        `${(THREADS * 3).toLocaleString("en-US")} saver calls with ${IN_FLIGHT} in flight took ` +
        `${(elapsedMs / 1000).toFixed(1)} s (${Math.round((THREADS * 3) / (elapsedMs / 1000)).toLocaleString("en-US")} calls/s).`,
      "Counted from INFO commandstats on each master (reset before the writes): commands from clients are EVALSHA " +
        "calls, commands in Lua what the scripts ran; Redis CPU is INFO cpu (user + system) over the writes.",
      "The cross-thread index (the thread registry's buckets) is spread over 16 hash-tagged buckets in evenly " +
        "spaced slot ranges: the Holds column says how many each master has.",
    );
  } finally {
    await deleteKeys(cluster, `${keyPrefix}|*`).catch(() => undefined);
    await cluster.quit().catch(() => cluster.disconnect());
    await local?.stop();
  }
}

async function writeThread(saver: RedisSaver, threadId: string): Promise<void> {
  const sequence = new CheckpointSequence(versionsOf(saver));
  await putStep(saver, threadId, sequence.next(typicalStep(0)));
  const step = sequence.next(typicalStep(1));
  await putStep(saver, threadId, step);
  await saver.putWrites(threadConfig(threadId, step.checkpoint.id), typicalWrites(1), randomUUID());
}

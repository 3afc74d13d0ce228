/**
 * One operation against its floor: latency p50/p99 of both (interleaved) and their ratio; then where the time goes:
 * the Redis commands the operation sends per call and runs inside Lua (counted exactly with MONITOR), and the CPU
 * each side spends per call, next to the floor's.
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { startMonitor } from "../scripts/monitor.js";
import type { BenchContext } from "./context.js";
import { CPU_BLOCKS, cpuPerCallInterleaved } from "./cpu.js";
import type { Column, Table } from "./results.js";
import { floorRatio, type Summary, summarize } from "./stats.js";
import { timeInterleaved } from "./timing.js";

const LATENCY_COLUMNS: readonly Column[] = [
  { key: "op", label: "Operation", kind: "text" },
  { key: "bytes", label: "Bytes", kind: "bytes" },
  { key: "p50", label: "p50 (ms)", kind: "ms" },
  { key: "p99", label: "p99 (ms)", kind: "ms" },
  { key: "floor", label: "Floor", kind: "text" },
  { key: "floorP50", label: "Floor p50 (ms)", kind: "ms" },
  { key: "floorP99", label: "Floor p99 (ms)", kind: "ms" },
  { key: "ratioP50", label: "p50 / floor", kind: "ratio" },
  { key: "ratioP99", label: "p99 / floor", kind: "ratio" },
];

const COST_COLUMNS: readonly Column[] = [
  { key: "op", label: "Operation", kind: "text" },
  { key: "sent", label: "Cmds sent/call", kind: "decimal" },
  { key: "inScripts", label: "Cmds in Lua/call", kind: "decimal" },
  { key: "nodeUs", label: "Node CPU/call (us)", kind: "decimal" },
  { key: "redisUs", label: "Redis CPU/call (us)", kind: "decimal" },
  { key: "floorNodeUs", label: "Floor Node CPU (us)", kind: "decimal" },
  { key: "floorRedisUs", label: "Floor Redis CPU (us)", kind: "decimal" },
];

export interface VsFloorTables {
  readonly latency: Table;
  readonly cost: Table;
}

/** The two tables of a component: latency against the floor, and where each call's time goes. */
export function vsFloorTables(ctx: BenchContext, id: string, name: string): VsFloorTables {
  const latency = ctx.recorder.table(id, `${name}: latency against the floor`, LATENCY_COLUMNS);
  const cost = ctx.recorder.table(`${id}-cost`, `${name}: commands and CPU per call`, COST_COLUMNS);
  cost.notes.push(
    "Cmds sent/call: commands the client sent per call; Cmds in Lua/call: commands the server ran inside scripts " +
      "for it (both counted exactly with MONITOR).",
    "CPU per call: this Node.js process and the Redis server, calls made one after another; the floor columns are " +
      `the same for the floor call, measured in alternating blocks with the operation (${CPU_BLOCKS} of each) so both ` +
      "see the same machine; a CPU ratio (such as the put target's) is the median of the blocks' ratios. Sequential " +
      "calls pay the most per call (every call wakes both processes).",
  );
  return { latency, cost };
}

export interface CommandCount {
  /** Commands the client sent per call (a call that awaits each before the next makes this many round trips). */
  readonly sent: number;
  /** Commands run inside Lua scripts per call (server work the client never sees). */
  readonly inScripts: number;
}

/**
 * Counts the commands `fn` makes Redis run, averaged over `calls` sequential calls, by watching MONITOR on a
 * separate connection: commands from Lua show up with source "lua", the rest came over the wire. A marker ECHO
 * sent after the last call tells when every earlier command has been seen. Only commands from `client`'s own
 * connection count as sent. Exact, whatever the noise.
 */
export async function countCommands(
  client: Redis,
  fn: (i: number) => Promise<unknown>,
  calls = 50,
): Promise<CommandCount> {
  const socket = (client as unknown as { stream?: { localAddress?: string; localPort?: number } }).stream;
  const self = socket?.localPort ? `${socket.localAddress}:${socket.localPort}` : undefined;
  const { host, port, username, password } = client.options;
  const monitor = await startMonitor({ host: host ?? "127.0.0.1", port: port ?? 6379, username, password });
  try {
    const marker = `bench-marker-${randomUUID()}`;
    let sent = 0;
    let inScripts = 0;
    let counting = false;
    let seenMarker: () => void = () => {};
    const markerSeen = new Promise<void>((resolve) => {
      seenMarker = resolve;
    });
    const start = `bench-start-${randomUUID()}`;
    let seenStart: () => void = () => {};
    const startSeen = new Promise<void>((resolve) => {
      seenStart = resolve;
    });
    monitor.on(({ args, source }) => {
      if (args[0]?.toLowerCase() === "echo" && args[1] === start) {
        counting = true;
        seenStart();
      } else if (args[0]?.toLowerCase() === "echo" && args[1] === marker) {
        counting = false;
        seenMarker();
      } else if (counting) {
        if (source === "lua") inScripts++;
        else if (self === undefined || source === self) sent++;
      }
    });
    await client.echo(start);
    await startSeen;
    for (let i = 0; i < calls; i++) await fn(i);
    await client.echo(marker);
    await markerSeen;
    return { sent: sent / calls, inScripts: inScripts / calls };
  } finally {
    monitor.close();
    await monitorGone(client);
  }
}

/**
 * Waits until the server has dropped every MONITOR client (a disconnect takes effect about a millisecond later): a
 * watcher multiplies the server's cost of every script call, and the next measurement must not pay it.
 */
async function monitorGone(client: Redis): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (Date.now() < deadline && / flags=\w*O/.test(String(await client.call("CLIENT", "LIST")))) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export interface VsFloor {
  readonly op: string;
  readonly bytes: number | null;
  readonly floor: string;
  /** Metric stem, e.g. "saver.put": records `<stem>.floorRatioP50`, `.p50Ms`, `.p99Ms` and the counts. */
  readonly metric: string;
  run(i: number): Promise<unknown>;
  runFloor(i: number): Promise<unknown>;
  /** Calls to count commands and CPU over (default 50 and 1,000; fewer for slow operations). */
  readonly commandCalls?: number;
  readonly cpuCalls?: number;
}

export async function measureVsFloor(
  ctx: BenchContext,
  tables: VsFloorTables,
  spec: VsFloor,
  iterations: number,
): Promise<{ subject: Summary; floor: Summary }> {
  ctx.progress.step(`${spec.op}: ${iterations} calls interleaved with ${spec.floor}`);
  const paired = await timeInterleaved(spec.run, spec.runFloor, { iterations, maxMs: ctx.durationMs(20_000) });
  const subject = summarize(paired.subject);
  const floor = summarize(paired.floor);
  const ratios = floorRatio(subject, floor);
  const commands = await countCommands(ctx.client, (i) => spec.run(1e6 + i), spec.commandCalls ?? 50);
  const cpuCalls = spec.cpuCalls ?? ctx.iterations(1000);
  const {
    subject: cpu,
    floor: floorCpu,
    ratio: cpuRatio,
  } = await cpuPerCallInterleaved(
    ctx.client,
    (i) => spec.run(2e6 + i),
    (i) => spec.runFloor(2e6 + i),
    cpuCalls,
  );
  tables.latency.rows.push({
    op: spec.op,
    bytes: spec.bytes,
    p50: subject.p50Ms,
    p99: subject.p99Ms,
    floor: spec.floor,
    floorP50: floor.p50Ms,
    floorP99: floor.p99Ms,
    ratioP50: ratios.p50,
    ratioP99: ratios.p99,
  });
  tables.cost.rows.push({
    op: spec.op,
    sent: commands.sent,
    inScripts: commands.inScripts,
    nodeUs: cpu.nodeUs,
    redisUs: cpu.redisUs,
    floorNodeUs: floorCpu.nodeUs,
    floorRedisUs: floorCpu.redisUs,
  });
  ctx.recorder.metric(`${spec.metric}.p50Ms`, subject.p50Ms);
  ctx.recorder.metric(`${spec.metric}.p99Ms`, subject.p99Ms);
  ctx.recorder.metric(`${spec.metric}.floorRatioP50`, ratios.p50);
  ctx.recorder.metric(`${spec.metric}.floorRatioP99`, ratios.p99);
  ctx.recorder.metric(`${spec.metric}.commandsSent`, commands.sent);
  ctx.recorder.metric(`${spec.metric}.commandsInScripts`, commands.inScripts);
  ctx.recorder.metric(`${spec.metric}.nodeCpuUs`, cpu.nodeUs);
  ctx.recorder.metric(`${spec.metric}.redisCpuUs`, cpu.redisUs);
  ctx.recorder.metric(`${spec.metric}.redisCpuOverFloor`, cpuRatio.redisUs);
  return { subject, floor };
}

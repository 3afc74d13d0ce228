/**
 * CPU time charged to operations: this Node.js process (process.cpuUsage, all its threads) and the Redis server
 * (INFO cpu, user + system). Unlike wall-clock latency, CPU per operation hardly moves when other work shares the
 * machine, so it says where an operation's time goes and what one core of each side can sustain.
 */
import type { RedisClient } from "../src/client.js";

export interface CpuPerOp {
  readonly nodeUs: number;
  readonly redisUs: number;
}

export async function redisCpuSeconds(client: RedisClient): Promise<number> {
  const info = await client.info("cpu");
  const user = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? Number.NaN);
  const sys = Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? Number.NaN);
  return user + sys;
}

/** Runs `work`, which performs `ops()` operations, and divides both sides' CPU time by them. */
export async function chargeCpu<T>(
  client: RedisClient,
  work: () => Promise<T>,
  ops: (result: T) => number,
): Promise<[T, CpuPerOp]> {
  const server0 = await redisCpuSeconds(client);
  const node0 = process.cpuUsage();
  const result = await work();
  const node = process.cpuUsage(node0);
  const server1 = await redisCpuSeconds(client);
  const n = ops(result);
  return [result, { nodeUs: (node.user + node.system) / n, redisUs: ((server1 - server0) * 1e6) / n }];
}

/** CPU per call of `fn`, called `calls` times one after another. */
export async function cpuPerCall(
  client: RedisClient,
  fn: (i: number) => Promise<unknown>,
  calls: number,
): Promise<CpuPerOp> {
  const [, cpu] = await chargeCpu(
    client,
    async () => {
      for (let i = 0; i < calls; i++) await fn(i);
    },
    () => calls,
  );
  return cpu;
}

/**
 * CPU per call of `fn` and of `floor`, measured in alternating blocks (`blocks` of each, the order swapped every
 * block) rather than one after the other: the load of a shared machine changes within seconds and moves a server's
 * CPU per call with it (a SET measured twice, a minute apart, gave 25 and 42 us here), so a ratio of the two is only
 * meaningful when both saw the same conditions. Each block's two INFO reads are charged to it, alike on both sides.
 * `subject` and `floor` are the means over the blocks; `ratio` is the median over the blocks of each pair's ratio
 * (subject over floor), which a few blocks disturbed by other work on the machine do not move.
 */
export async function cpuPerCallInterleaved(
  client: RedisClient,
  fn: (i: number) => Promise<unknown>,
  floor: (i: number) => Promise<unknown>,
  calls: number,
  blocks = CPU_BLOCKS,
): Promise<{ subject: CpuPerOp; floor: CpuPerOp; ratio: CpuPerOp }> {
  const perBlock = Math.max(1, Math.round(calls / blocks));
  const totals = { subject: { nodeUs: 0, redisUs: 0 }, floor: { nodeUs: 0, redisUs: 0 } };
  const nodeRatios: number[] = [];
  const redisRatios: number[] = [];
  let done = 0;
  for (let block = 0; block < blocks; block++) {
    const order = block % 2 === 0 ? (["subject", "floor"] as const) : (["floor", "subject"] as const);
    const pair: Partial<Record<"subject" | "floor", CpuPerOp>> = {};
    for (const side of order) {
      const call = side === "subject" ? fn : floor;
      const cpu = await cpuPerCall(client, (i) => call(done + i), perBlock);
      totals[side].nodeUs += cpu.nodeUs;
      totals[side].redisUs += cpu.redisUs;
      pair[side] = cpu;
    }
    const { subject, floor: base } = pair as Record<"subject" | "floor", CpuPerOp>;
    nodeRatios.push(subject.nodeUs / base.nodeUs);
    redisRatios.push(subject.redisUs / base.redisUs);
    done += perBlock;
  }
  const mean = (total: CpuPerOp): CpuPerOp => ({ nodeUs: total.nodeUs / blocks, redisUs: total.redisUs / blocks });
  return {
    subject: mean(totals.subject),
    floor: mean(totals.floor),
    ratio: { nodeUs: medianOf(nodeRatios), redisUs: medianOf(redisRatios) },
  };
}

/** Blocks of each side in cpuPerCallInterleaved. */
export const CPU_BLOCKS = 20;

/** The median of finite values (the mean of the middle two for an even count); NaN when there is none. */
function medianOf(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Node CPU per call of a purely local `fn` (no Redis involved). */
export async function nodeCpuPerCall(fn: () => Promise<unknown>, calls: number): Promise<number> {
  for (let i = 0; i < Math.min(200, calls); i++) await fn();
  const start = process.cpuUsage();
  for (let i = 0; i < calls; i++) await fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / calls;
}

/**
 * What the processes record in Redis while the scenario runs, and how the report reads it back. The table's
 * counts come from these records (and from the final documents), never from a process's own tally.
 *
 * Each event is appended to a list as "<server time in µs> <json>" by a small Lua script that reads the server
 * clock (TIME) in the same step, so events from all processes are stamped by one clock. Critical sections carry
 * their start (server TIME read when the section began) and are stamped when they end, before the lock is released.
 */
import type { RedisClient } from "langgraph-redis";
import type { DemoKeys } from "./keys.js";

export interface RecordPayloads {
  /** A run's first node began (thread ids are "<agent>:<event id>"). */
  runStart: { thread: string; agent: Agent; orderId: string; worker: string };
  /** A run's last node finished. */
  runEnd: { thread: string; agent: Agent; orderId: string; worker: string };
  /** A node finished its work (recorded before LangGraph stores the node's writes). */
  step: { thread: string; node: string; worker: string };
  /** A critical section on an order: the node that reads the order and acts on it. Stamped at its end. */
  cs: { orderId: string; thread: string; node: string; worker: string; startUs: number };
  /** The fraud agent stored its verdict on the order. */
  verdict: { orderId: string; thread: string; worker: string; flagged: boolean; afterCharge: boolean };
  /** The payment agent stored an approval (the card was charged). */
  approval: { orderId: string; thread: string; worker: string; chargeId: string };
  /** The payment agent found the order already charged and left it alone. */
  duplicateSkipped: { orderId: string; thread: string; worker: string };
  /** A write to a shared document returned success; it must be visible in the document at the end. */
  write: { writeId: string; doc: string; worker: string };
  /** The recoverer took over a run of a dead worker: resumed from its checkpoint, or restarted from scratch. */
  takeover: { thread: string; how: "resumed" | "restarted"; worker: string; checkpointId?: string };
  /** The orchestrator killed a worker. */
  kill: { worker: string; pid: number; inFlight: number };
}

export type RecordKind = keyof RecordPayloads;
export type Agent = "fraud" | "payment";
export type Stamped<K extends RecordKind> = RecordPayloads[K] & { atUs: number };

export const recordKinds: readonly RecordKind[] = [
  "runStart",
  "runEnd",
  "step",
  "cs",
  "verdict",
  "approval",
  "duplicateSkipped",
  "write",
  "takeover",
  "kill",
];

export type SampleKind = "put" | "lockWait";
export const sampleKinds: readonly SampleKind[] = ["put", "lockWait"];

/** KEYS[1] list; ARGV[1] payload. Appends "<server µs> <payload>", returns the server time in µs as a string. */
const STAMP_LUA = `
local t = redis.call('TIME')
local us = t[1] .. string.rep('0', 6 - #t[2]) .. t[2]
redis.call('RPUSH', KEYS[1], us .. ' ' .. ARGV[1])
return us`;

type StampCommand = (key: string, payload: string) => Promise<string>;

export class Recorder {
  private readonly samples = new Map<SampleKind, number[]>();
  private readonly timer: NodeJS.Timeout;
  private readonly stamp: StampCommand;

  constructor(
    private readonly client: RedisClient,
    readonly keys: DemoKeys,
    readonly worker: string,
  ) {
    const target = client as unknown as Record<string, StampCommand | undefined>;
    if (typeof target.demoStamp !== "function") client.defineCommand("demoStamp", { numberOfKeys: 1, lua: STAMP_LUA });
    this.stamp = (target.demoStamp as StampCommand).bind(client);
    this.timer = setInterval(() => void this.flush().catch(() => {}), 500);
    this.timer.unref();
  }

  /** The server clock in µs. */
  async now(): Promise<number> {
    const [seconds, micros] = await this.client.time();
    return Number(seconds) * 1_000_000 + Number(micros);
  }

  /** Appends one event stamped with the server clock; returns the stamp (µs). */
  async record<K extends RecordKind>(kind: K, payload: RecordPayloads[K]): Promise<number> {
    return Number(await this.stamp(this.keys.record(kind), JSON.stringify(payload)));
  }

  /** Marks a thread's run as finished (the orchestrator waits for every thread). */
  async markDone(thread: string): Promise<void> {
    await this.client.sadd(this.keys.done, thread);
  }

  /** Counts this worker's runs in flight, for the progress line and for choosing when to kill. */
  async inFlight(delta: number): Promise<void> {
    await this.client.hincrby(this.keys.inFlight, this.worker, delta);
  }

  /** Buffers a latency sample (ms); flushed to Redis every 500 ms and on close. */
  sample(kind: SampleKind, ms: number): void {
    const list = this.samples.get(kind) ?? [];
    list.push(Math.round(ms * 1000));
    this.samples.set(kind, list);
  }

  async flush(): Promise<void> {
    const pending = [...this.samples.entries()].filter(([, list]) => list.length > 0);
    this.samples.clear();
    await Promise.all(pending.map(([kind, list]) => this.client.rpush(this.keys.samples(kind), ...list)));
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

export async function readRecords<K extends RecordKind>(
  client: RedisClient,
  keys: DemoKeys,
  kind: K,
): Promise<Stamped<K>[]> {
  const entries = await client.lrange(keys.record(kind), 0, -1);
  return entries.map((entry) => {
    const space = entry.indexOf(" ");
    return { ...(JSON.parse(entry.slice(space + 1)) as RecordPayloads[K]), atUs: Number(entry.slice(0, space)) };
  });
}

/** Latency samples in ms. */
export async function readSamples(client: RedisClient, keys: DemoKeys, kind: SampleKind): Promise<number[]> {
  const entries = await client.lrange(keys.samples(kind), 0, -1);
  return entries.map((us) => Number(us) / 1000);
}

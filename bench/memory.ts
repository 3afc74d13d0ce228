/**
 * Redis memory per checkpoint against the serialized payload. A 20-step thread carries one large channel written
 * once and one small channel changed every step, as an agent with a big document in its state and a small
 * scratchpad does. A saver that stores each (channel, version) once should grow by about the changed bytes per step;
 * one that re-stores every value grows by the large channel each step.
 */
import type { BenchContext } from "./context.js";
import { memoryUsage, scanKeys } from "./keyspace.js";
import {
  CheckpointSequence,
  filler,
  fullCheckpointBytes,
  type NextVersion,
  type PutArgs,
  putPayloadBytes,
  serde,
} from "./payloads.js";
import type { Column } from "./results.js";
import { ratio } from "./stats.js";

export const MEMORY_STEPS = 20;
export const LARGE_CHANNEL_CHARS = 100_000;
export const SMALL_CHANNEL_CHARS = 40;
export const BIGGER_SMALL_CHANNEL_CHARS = 1000;

export interface MemorySubject {
  readonly name: string;
  /** SCAN MATCH pattern covering every key the subject writes for the thread (and nothing else). */
  readonly keyPattern: string;
  /** The saver's version scheme (getNextVersion). */
  readonly nextVersion?: NextVersion;
  /** Stores one checkpoint of the thread, as LangGraph would (config carries the parent id). */
  put(args: PutArgs): Promise<unknown>;
}

const COLUMNS: readonly Column[] = [
  { key: "what", label: "What", kind: "text" },
  { key: "redis", label: "Redis memory (B)", kind: "bytes" },
  { key: "serialized", label: "Serialized (B)", kind: "bytes" },
  { key: "ratio", label: "Memory / serialized", kind: "ratio" },
];

interface Weight {
  readonly bytes: number;
  readonly keys: number;
  readonly perKey: ReadonlyMap<string, number>;
}

async function weigh(ctx: BenchContext, pattern: string): Promise<Weight> {
  const keys = (await scanKeys(ctx.client, pattern)).sort();
  const perKey = new Map<string, number>();
  for (const key of keys) perKey.set(key, await memoryUsage(ctx.client, [key]));
  let bytes = 0;
  for (const value of perKey.values()) bytes += value;
  return { bytes, keys: keys.length, perKey };
}

/** A key's role: the key without the run's prefix and with the thread's hash tag shown as {thread}. */
function keyRole(key: string, pattern: string): string {
  const prefix = pattern.replace(/\*$/, "");
  return (key.startsWith(prefix) ? key.slice(prefix.length) : key).replace(/\{[^}]*\}/, "{thread}");
}

interface ThreadGrowth {
  readonly afterFirst: Weight;
  readonly afterAll: Weight;
  readonly firstBytes: number;
  readonly changedBytes: number;
  readonly fullBytes: number;
  readonly smallBytes: number;
}

/** Writes the 20-step thread and weighs its keys after the first checkpoint and after the last. */
async function growThread(ctx: BenchContext, subject: MemorySubject, smallChars: number): Promise<ThreadGrowth> {
  const large = filler(LARGE_CHANNEL_CHARS, 42);
  const small = (step: number) => ({ step, note: filler(smallChars, step) });
  const sequence = new CheckpointSequence(subject.nextVersion);
  const first = sequence.next({ document: large, scratch: small(0) });
  await subject.put(first);
  const afterFirst = await weigh(ctx, subject.keyPattern);
  let changedBytes = 0;
  let smallBytes = 0;
  let fullBytes = await fullCheckpointBytes(first);
  for (let step = 1; step < MEMORY_STEPS; step++) {
    const args = sequence.next({ scratch: small(step) });
    await subject.put(args);
    changedBytes += await putPayloadBytes(args);
    smallBytes += (await serde.dumpsTyped(args.checkpoint.channel_values.scratch))[1].byteLength;
    fullBytes += await fullCheckpointBytes(args);
  }
  const afterAll = await weigh(ctx, subject.keyPattern);
  return { afterFirst, afterAll, firstBytes: await putPayloadBytes(first), changedBytes, fullBytes, smallBytes };
}

/** `makeSubject` gives a fresh subject (its own keys) for each thread written. */
export async function memorySection(ctx: BenchContext, makeSubject: (scenario: string) => MemorySubject) {
  const table = ctx.recorder.table(
    "memory",
    `Redis memory per checkpoint: ${MEMORY_STEPS}-step thread, one large unchanging channel, one small changing`,
    COLUMNS,
  );
  const steps = MEMORY_STEPS - 1;
  const subject = makeSubject("small");
  ctx.progress.step(`${subject.name}: ${MEMORY_STEPS} checkpoints, MEMORY USAGE over the thread's keys`);
  const run = await growThread(ctx, subject, SMALL_CHANNEL_CHARS);
  const incremental = (run.afterAll.bytes - run.afterFirst.bytes) / steps;
  const changedPerStep = run.changedBytes / steps;
  const overChanged = ratio(incremental, changedPerStep);
  table.rows.push({
    what: "First checkpoint (both channels)",
    redis: run.afterFirst.bytes,
    serialized: run.firstBytes,
    ratio: ratio(run.afterFirst.bytes, run.firstBytes),
  });
  table.rows.push({
    what: "Each further checkpoint (small channel changed)",
    redis: incremental,
    serialized: changedPerStep,
    ratio: overChanged,
  });
  for (const [key, bytes] of run.afterAll.perKey) {
    const grew = (bytes - (run.afterFirst.perKey.get(key) ?? 0)) / steps;
    table.rows.push({
      what: `of which key ${keyRole(key, subject.keyPattern)}`,
      redis: grew,
      serialized: null,
      ratio: null,
    });
  }
  table.rows.push({
    what: `Whole thread (${MEMORY_STEPS} checkpoints, ${run.afterAll.keys} keys)`,
    redis: run.afterAll.bytes,
    serialized: run.firstBytes + run.changedBytes,
    ratio: ratio(run.afterAll.bytes, run.firstBytes + run.changedBytes),
  });
  table.rows.push({
    what: "Same thread if every checkpoint stored all values",
    redis: null,
    serialized: run.fullBytes,
    ratio: null,
  });

  // The same thread with a bigger changing channel: the fixed cost per checkpoint weighs less.
  const bigger = makeSubject("bigger");
  ctx.progress.step(`${bigger.name}: the same thread with a ${BIGGER_SMALL_CHANNEL_CHARS}-character changing channel`);
  const second = await growThread(ctx, bigger, BIGGER_SMALL_CHANNEL_CHARS);
  const secondIncremental = (second.afterAll.bytes - second.afterFirst.bytes) / steps;
  table.rows.push({
    what: `Each further checkpoint, changing channel of ${Math.round(second.smallBytes / steps)} B`,
    redis: secondIncremental,
    serialized: second.changedBytes / steps,
    ratio: ratio(secondIncremental, second.changedBytes / steps),
  });

  ctx.recorder.metric("memory.incrementalOverChanged", overChanged);
  ctx.recorder.metric("memory.incrementalBytes", incremental);
  ctx.recorder.metric("memory.fixedBytesPerCheckpoint", incremental - changedPerStep);
  table.notes.push(
    `Large channel: a ${LARGE_CHANNEL_CHARS.toLocaleString("en-US")}-character string written once; small channel: ` +
      `an object of about ${Math.round(run.smallBytes / steps)} serialized bytes, changed every step.`,
    "Serialized bytes of a checkpoint are what must be stored at least: the checkpoint without channel values, its " +
      "metadata, and the values of the channels listed in newVersions (LangGraph's serializer).",
    "Redis memory is the sum of MEMORY USAGE (SAMPLES 0) over every key of the thread, indexes included, so it counts " +
      'key names, per-key overhead and allocator rounding; the "of which" rows split the growth per checkpoint by key.',
  );
}

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

async function weigh(ctx: BenchContext, pattern: string): Promise<{ bytes: number; keys: number }> {
  const keys = await scanKeys(ctx.client, pattern);
  return { bytes: await memoryUsage(ctx.client, keys), keys: keys.length };
}

export async function memorySection(ctx: BenchContext, subject: MemorySubject): Promise<void> {
  const table = ctx.recorder.table(
    "memory",
    `Redis memory per checkpoint: ${MEMORY_STEPS}-step thread, one large unchanging channel, one small changing`,
    COLUMNS,
  );
  const large = filler(LARGE_CHANNEL_CHARS, 42);
  const small = (step: number) => ({ step, note: filler(SMALL_CHANNEL_CHARS, step) });
  const sequence = new CheckpointSequence(subject.nextVersion);

  ctx.progress.step(`${subject.name}: ${MEMORY_STEPS} checkpoints, MEMORY USAGE over the thread's keys`);
  const first = sequence.next({ document: large, scratch: small(0) });
  await subject.put(first);
  const afterFirst = await weigh(ctx, subject.keyPattern);
  const firstBytes = await putPayloadBytes(first);

  let changedBytes = 0;
  let scratchBytes = 0;
  let fullBytes = await fullCheckpointBytes(first);
  for (let step = 1; step < MEMORY_STEPS; step++) {
    const args = sequence.next({ scratch: small(step) });
    await subject.put(args);
    changedBytes += await putPayloadBytes(args);
    scratchBytes += (await serde.dumpsTyped(args.checkpoint.channel_values.scratch))[1].byteLength;
    fullBytes += await fullCheckpointBytes(args);
  }
  const afterAll = await weigh(ctx, subject.keyPattern);
  const incremental = (afterAll.bytes - afterFirst.bytes) / (MEMORY_STEPS - 1);
  const changedPerStep = changedBytes / (MEMORY_STEPS - 1);
  const overChanged = ratio(incremental, changedPerStep);

  table.rows.push({
    what: "First checkpoint (both channels)",
    redis: afterFirst.bytes,
    serialized: firstBytes,
    ratio: ratio(afterFirst.bytes, firstBytes),
  });
  table.rows.push({
    what: "Each further checkpoint (small channel changed)",
    redis: incremental,
    serialized: changedPerStep,
    ratio: overChanged,
  });
  table.rows.push({
    what: `Whole thread (${MEMORY_STEPS} checkpoints, ${afterAll.keys} keys)`,
    redis: afterAll.bytes,
    serialized: firstBytes + changedBytes,
    ratio: ratio(afterAll.bytes, firstBytes + changedBytes),
  });
  table.rows.push({
    what: "Same thread if every checkpoint stored all values",
    redis: null,
    serialized: fullBytes,
    ratio: null,
  });
  ctx.recorder.metric("memory.incrementalOverChanged", overChanged);
  table.notes.push(
    `Large channel: a ${LARGE_CHANNEL_CHARS.toLocaleString("en-US")}-character string written once; small channel: ` +
      `an object of about ${Math.round(scratchBytes / (MEMORY_STEPS - 1))} serialized bytes, changed every step.`,
    "Serialized bytes of a checkpoint are what must be stored at least: the checkpoint without channel values, its " +
      "metadata, and the values of the channels listed in newVersions (LangGraph's serializer).",
    "Redis memory is the sum of MEMORY USAGE (SAMPLES 0) over every key of the thread, indexes included, so it counts " +
      "key names, per-key overhead and allocator rounding.",
  );
}

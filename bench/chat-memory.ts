/**
 * Memory of a long chat: the 100-turn (and 1,000-turn) plain MessagesAnnotation thread of bench/chat-thread.ts,
 * weighed with MEMORY USAGE over every key of the thread, for the saver's storage options: whole values at every
 * version (blobDeltas: false, what earlier releases stored), delta blobs (the default), delta blobs with
 * compression, and compression alone; plus the p50 of reading the latest checkpoint. (That every checkpoint reads
 * back equal to MemorySaver's is checked by test/saver/blob-delta.test.ts.)
 */
import { RedisSaver, type RedisSaverOptions } from "../src/index.js";
import { saverThreadKeys } from "../src/keys.js";
import { checkpointCount } from "../src/saver/checkpoint-count.js";
import { runChat } from "./chat-thread.js";
import type { BenchContext } from "./context.js";
import { deleteKeys, memoryUsage, scanKeys } from "./keyspace.js";
import { serde } from "./payloads.js";
import type { Column } from "./results.js";
import { ratio } from "./stats.js";

const COLUMNS: readonly Column[] = [
  { key: "what", label: "Storage", kind: "text" },
  { key: "turns", label: "Turns", kind: "int" },
  { key: "checkpoints", label: "Checkpoints", kind: "int" },
  { key: "redis", label: "Redis memory (B)", kind: "bytes" },
  { key: "ratio", label: "Memory / final state", kind: "ratio" },
  { key: "readMs", label: "getTuple latest (ms)", kind: "ms" },
];

interface Variant {
  readonly name: string;
  readonly id: string;
  readonly options: Partial<RedisSaverOptions>;
  readonly turns: readonly number[];
}

const VARIANTS: readonly Variant[] = [
  { name: "whole values (blobDeltas: false)", id: "plain", options: { blobDeltas: false }, turns: [100] },
  { name: "compression only", id: "zlib", options: { blobDeltas: false, compression: {} }, turns: [100] },
  { name: "delta blobs (default)", id: "delta", options: {}, turns: [100, 1000] },
  { name: "delta blobs + compression", id: "deltaZlib", options: { compression: {} }, turns: [100] },
];

export async function chatMemorySection(ctx: BenchContext): Promise<void> {
  const table = ctx.recorder.table(
    "chatMemory",
    "Redis memory of a plain MessagesAnnotation chat thread (200 + 400 characters of random words per turn)",
    COLUMNS,
  );
  for (const variant of VARIANTS) {
    for (const turns of variant.turns) {
      const keyPrefix = ctx.keyPrefix(`chat-${variant.id}-${turns}`);
      const saver = new RedisSaver({ client: ctx.client, keyPrefix, ...variant.options });
      ctx.progress.step(`chat of ${turns} turns, ${variant.name}`);
      await runChat(saver, "chat", turns);
      const config = { configurable: { thread_id: "chat" } };
      // Counted from the index: list() would deserialize every message list of the thread.
      const checkpoints = await checkpointCount(ctx.client, saverThreadKeys(keyPrefix, "chat").byNamespace);
      const bytes = await memoryUsage(ctx.client, await scanKeys(ctx.client, `${keyPrefix}|*`));
      const reads: number[] = [];
      let finalBytes = 0;
      for (let i = 0; i < ctx.iterations(50, 10); i++) {
        const started = performance.now();
        const tuple = await saver.getTuple(config);
        reads.push(performance.now() - started);
        finalBytes = (await serde.dumpsTyped(tuple?.checkpoint.channel_values.messages))[1].byteLength;
      }
      reads.sort((a, b) => a - b);
      const readMs = reads[Math.floor(reads.length / 2)] ?? 0;
      table.rows.push({
        what: variant.name,
        turns,
        checkpoints,
        redis: bytes,
        ratio: ratio(bytes, finalBytes),
        readMs,
      });
      ctx.recorder.metric(`chatMemory.${variant.id}.${turns}.MiB`, bytes / 1024 / 1024);
      ctx.recorder.metric(`chatMemory.${variant.id}.${turns}.readP50Ms`, readMs);
      await deleteKeys(ctx.client, `${keyPrefix}|*`);
    }
  }
  table.notes.push(
    "Each turn: a 200-character question and a 400-character answer of random lowercase words (text that " +
      "compresses about 2x, as prose does), 3 checkpoints per turn, full history kept.",
    "Redis memory is MEMORY USAGE (SAMPLES 0) summed over every key of the thread; final state is the serialized " +
      "message list of the last checkpoint. Whole values grow with the square of the turns, so 1,000 turns is " +
      "left out for them (about 1 GiB).",
  );
}

/**
 * Memory sizing (not a test): bytes Redis holds for checkpointed LangGraph threads and for store items, measured
 * with MEMORY USAGE on every key a scenario wrote. The figures in docs/operations.md come from this script.
 * Run: npx tsx scripts/with-redis.ts -- npx tsx bench/memory-sizing.ts
 */
import { Redis } from "ioredis";
import { RedisSaver, type RedisSaverOptions, RedisStore } from "../src/index.js";
import { saverThreadKeys } from "../src/keys.js";
import { checkpointCount } from "../src/saver/checkpoint-count.js";
import { runChat } from "./chat-thread.js";

const client = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const run = `mem${process.pid}`;

/** Total MEMORY USAGE of the keys under `prefix` (a sizing script may SCAN; the library never does). */
async function bytesUnder(prefix: string): Promise<{ bytes: number; keys: number }> {
  let cursor = "0";
  let bytes = 0;
  let keys = 0;
  do {
    const [next, batch] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    for (const key of batch) {
      bytes += Number(await client.memory("USAGE", key, "SAMPLES", 0));
      keys++;
    }
  } while (cursor !== "0");
  return { bytes, keys };
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

/**
 * The chat thread of bench/chat-thread.ts (a 200-character question and a 400-character answer of random words per
 * turn, 3 checkpoints per turn), stored with the saver's defaults (delta blobs) or with `options`.
 */
async function chatThread(turns: number, label: string, options: Partial<RedisSaverOptions> = {}): Promise<void> {
  const prefix = `${run}c${turns}${label.replace(/\W/g, "")}`;
  const saver = new RedisSaver({ client, keyPrefix: prefix, ...options });
  await runChat(saver, "chat", turns);
  // From the index: list() would deserialize every message list of the thread.
  const checkpoints = await checkpointCount(client, saverThreadKeys(prefix, "chat").byNamespace);
  const { bytes, keys } = await bytesUnder(prefix);
  console.log(
    `checkpointer (${label}), chat of ${String(turns).padStart(4)} turns: ${String(checkpoints).padStart(4)} ` +
      `checkpoints, ${keys} keys, ${kib(bytes).padStart(10)} in all, ${kib(bytes / checkpoints).padStart(8)} per checkpoint`,
  );
}

/** Store items of about 1 KiB of JSON, written once or updated 20 times (history kept, historyLimit 20). */
async function storeItems(items: number, updates: number): Promise<void> {
  const prefix = `${run}s${items}u${updates}`;
  const store = new RedisStore({ client, keyPrefix: prefix, historyLimit: 20 });
  const value = (n: number) => ({ status: "pending", amount: n, note: "n".repeat(950) });
  for (let i = 0; i < items; i++) {
    for (let u = 0; u < updates; u++) await store.put(["orders", "eu"], `order-${i}`, value(u));
  }
  const { bytes } = await bytesUnder(prefix);
  console.log(
    `store, ${items} items of ~1 KiB written ${String(updates).padStart(2)}x (historyLimit 20): ` +
      `${kib(bytes).padStart(10)} in all, ${kib(bytes / items).padStart(8)} per item`,
  );
}

try {
  for (const turns of [10, 50, 100]) await chatThread(turns, "blobDeltas: false", { blobDeltas: false });
  for (const turns of [10, 50, 100, 1000]) await chatThread(turns, "default");
  await chatThread(100, "compression", { compression: {} });
  await storeItems(1000, 1);
  await storeItems(200, 20);
} finally {
  client.disconnect();
}

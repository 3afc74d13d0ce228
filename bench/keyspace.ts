/**
 * Keys of one bench run, found by SCAN on their prefix. Only the bench does this (to weigh a thread's keys and to
 * clean up after itself on a server it was handed); the library itself never scans.
 */
import type { Redis } from "ioredis";
import { isCluster, type RedisClient } from "../src/client.js";

function masters(client: RedisClient): Redis[] {
  return isCluster(client) ? client.nodes("master") : [client];
}

/** Every key matching `pattern` (a SCAN MATCH glob), on every master. */
export async function scanKeys(client: RedisClient, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  for (const node of masters(client)) {
    let cursor = "0";
    do {
      const [next, batch] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== "0");
  }
  return keys;
}

/** Sum of MEMORY USAGE (exact: SAMPLES 0) over `keys`, pipelined. */
export async function memoryUsage(client: RedisClient, keys: readonly string[]): Promise<number> {
  let total = 0;
  for (let i = 0; i < keys.length; i += 1000) {
    const chunk = keys.slice(i, i + 1000);
    const replies = await Promise.all(chunk.map((key) => client.call("MEMORY", "USAGE", key, "SAMPLES", "0")));
    for (const reply of replies) total += typeof reply === "number" ? reply : 0;
  }
  return total;
}

/** Deletes every key matching `pattern`; returns how many. */
export async function deleteKeys(client: RedisClient, pattern: string): Promise<number> {
  const keys = await scanKeys(client, pattern);
  for (let i = 0; i < keys.length; i += 1000) {
    await Promise.all(keys.slice(i, i + 1000).map((key) => client.unlink(key)));
  }
  return keys.length;
}

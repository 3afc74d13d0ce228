/**
 * Bounded SCAN for the inspector only (an offline tool: the library itself never scans). It walks each master of a
 * cluster (or the one server), with MATCH on the key prefix, and stops after `maxKeys` keys, saying so.
 */
import type { Redis } from "ioredis";
import { isCluster, type RedisClient } from "../../client.js";

export interface ScanResult {
  readonly keys: string[];
  /** False when maxKeys stopped the walk before every server was scanned to the end. */
  readonly complete: boolean;
}

export async function scanKeys(
  client: RedisClient,
  pattern: string,
  options: { maxKeys: number; count?: number; maxCalls?: number; onProgress?: (seen: number) => void },
): Promise<ScanResult> {
  const nodes: Redis[] = isCluster(client) ? client.nodes("master") : [client];
  const keys: string[] = [];
  const count = options.count ?? 1000;
  let calls = 0;
  for (const node of nodes) {
    let cursor = "0";
    do {
      if (options.maxCalls !== undefined && calls >= options.maxCalls) return { keys, complete: false };
      calls += 1;
      const [next, batch] = await node.scan(cursor, "MATCH", pattern, "COUNT", count);
      cursor = next;
      for (const key of batch) {
        if (keys.length >= options.maxKeys) return { keys, complete: false };
        keys.push(key);
      }
      options.onProgress?.(keys.length);
    } while (cursor !== "0");
  }
  return { keys: [...new Set(keys)], complete: true };
}

/** MEMORY USAGE of each key (0 for a key gone meanwhile), pipelined `batch` keys at a time. */
export async function memoryUsage(
  client: RedisClient,
  keys: readonly string[],
  options: { batch?: number; onProgress?: (done: number) => void } = {},
): Promise<number[]> {
  const batch = options.batch ?? 200;
  const sizes: number[] = [];
  for (let i = 0; i < keys.length; i += batch) {
    const slice = keys.slice(i, i + batch);
    const replies = await Promise.all(
      slice.map((key) => client.call("MEMORY", "USAGE", key) as Promise<number | null>),
    );
    for (const reply of replies) sizes.push(Number(reply ?? 0));
    options.onProgress?.(sizes.length);
  }
  return sizes;
}

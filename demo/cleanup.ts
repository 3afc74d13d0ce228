/**
 * Removing what one run of the scenario wrote, so the demo can run against a server the user cares about
 * (REDIS_URL): the demo's own keys by name (fixed names plus the index set of per-order and per-customer keys),
 * the library's data through its own API, and a last sweep by the run's unique prefix.
 */
import type { Redis } from "ioredis";
import { isCluster, type RedisClient } from "langgraph-redis";
import type { DemoKeys } from "./keys.js";
import { recordKinds, sampleKinds } from "./recording.js";

export async function deleteDemoKeys(client: RedisClient, keys: DemoKeys, workerIds: readonly string[]): Promise<void> {
  const indexed = await client.smembers(keys.index);
  const names = [...indexed, ...keys.fixed({ records: recordKinds, samples: sampleKinds, workerIds })];
  // All demo keys share one hash tag, so one pipeline works on a cluster as well.
  const pipeline = client.pipeline();
  for (const name of names) pipeline.unlink(name);
  await pipeline.exec();
}

/**
 * Deletes whatever is left under the run's prefix (store items and their history, fence counters, lease indexes,
 * locks not yet expired) and returns how many keys that was. This is the one place the demo lists keys: a SCAN
 * with MATCH on its own random prefix, once, at cleanup time, never while the scenario runs. On a cluster each
 * master is scanned.
 */
export async function sweepPrefix(client: RedisClient, prefix: string): Promise<number> {
  const nodes: Redis[] = isCluster(client) ? client.nodes("master") : [client];
  let deleted = 0;
  for (const node of nodes) {
    let cursor = "0";
    do {
      // the library's keys start with `<prefix>|`, the demo's own with `<prefix>:`
      const [next, found] = await node.scan(cursor, "MATCH", `${prefix}[|:]*`, "COUNT", 1000);
      cursor = next;
      for (const key of found) deleted += await node.unlink(key);
    } while (cursor !== "0");
  }
  return deleted;
}

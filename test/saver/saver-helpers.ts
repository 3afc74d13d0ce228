/** Test-only helpers for the saver tests. */
import type { Checkpoint } from "@langchain/langgraph-checkpoint";
import { uuid6 } from "@langchain/langgraph-checkpoint";
import type { Redis } from "ioredis";
import { isCluster, type RedisClient } from "../../src/client.js";
import { threadBucket, threadRegistryKeys } from "../../src/keys.js";

/**
 * Every key starting with `prefix`, on every master. SCAN is fine here: this is a test's own check of what the
 * library left behind, never a library code path.
 */
export async function keysWithPrefix(client: RedisClient, prefix: string): Promise<string[]> {
  const nodes: Redis[] = isCluster(client) ? client.nodes("master") : [client];
  const found: string[] = [];
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`, "COUNT", 1000);
      found.push(...keys);
      cursor = next;
    } while (cursor !== "0");
  }
  return found.sort();
}

/** A checkpoint with the given channel values, each at version 1 unless versions are given. */
export function makeCheckpoint(
  values: Record<string, unknown> = {},
  versions?: Record<string, number>,
  id = uuid6(-1),
): Checkpoint {
  return {
    v: 4,
    id,
    ts: new Date().toISOString(),
    channel_values: values,
    channel_versions: versions ?? Object.fromEntries(Object.keys(values).map((k) => [k, 1])),
    versions_seen: {},
  };
}

export const inputMetadata = { source: "input" as const, step: -1, parents: {} };
export const loopMetadata = (step: number) => ({ source: "loop" as const, step, parents: {} });

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** The bucket of the cross-thread index (the thread registry's `updated` set) a thread lives in. */
export function threadIndexKeyOf(prefix: string, threadId: string): string {
  return threadRegistryKeys(prefix, threadBucket(threadId)).updated;
}

/** The members of a thread's checkpoint index in order, whichever form it has (LIST, or the ZSET of earlier releases). */
export async function indexMembers(client: RedisClient, byNamespace: string): Promise<string[]> {
  return (await client.type(byNamespace)) === "list"
    ? client.lrange(byNamespace, 0, -1)
    : client.zrange(byNamespace, "0", "-1");
}

/** Test-only helpers for the saver tests. */
import type { Checkpoint, CheckpointTuple } from "@langchain/langgraph-checkpoint";
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

/** A stored record wrapped with the pending-write bundle it carries (FrameFormat.RECORD_WITH_WRITES), as Lua does. */
export function wrapRecord(record: Buffer, bundle: Buffer): Buffer {
  if (bundle.length === 0) return record;
  const head = Buffer.alloc(5);
  head[0] = 8;
  head.writeUInt32BE(record.length, 1);
  return Buffer.concat([head, record, bundle]);
}

/** The stored record of `field` unwrapped, and the bundle it carries (undefined for none). */
export async function storedRecord(
  client: RedisClient,
  checkpointsKey: string,
  field: string,
): Promise<{ record: Buffer; bundle: Buffer | undefined } | undefined> {
  const stored = await client.hgetBuffer(checkpointsKey, field);
  if (stored === null) return undefined;
  if (stored[0] !== 8) return { record: stored, bundle: undefined };
  const end = 5 + stored.readUInt32BE(1);
  return { record: stored.subarray(5, end), bundle: stored.subarray(end) };
}

/** A checkpoint's stored pending-write bundle, where it is: inside its record, else its writes-hash field. */
export async function storedBundle(
  client: RedisClient,
  keys: { checkpoints: string; writes: string },
  field: string,
): Promise<Buffer | null> {
  return (await storedRecord(client, keys.checkpoints, field))?.bundle ?? (await client.hgetBuffer(keys.writes, field));
}

/** Every bundle of a thread (in records and in the writes hash) and its writes-hash values. */
export async function storedWriteValues(
  client: RedisClient,
  keys: { checkpoints: string; writes: string },
): Promise<Buffer[]> {
  const values = Object.values(await client.hgetallBuffer(keys.writes));
  for (const stored of Object.values(await client.hgetallBuffer(keys.checkpoints))) {
    if (stored[0] === 8) values.push(stored.subarray(5 + stored.readUInt32BE(1)));
  }
  return values;
}

/** What tests compare of a tuple: its id, values, parent and pending writes (not the stored config's extra fields). */
export const tupleView = (tuple: CheckpointTuple | undefined) =>
  tuple && {
    id: tuple.checkpoint.id,
    values: tuple.checkpoint.channel_values,
    parent: tuple.parentConfig?.configurable?.checkpoint_id,
    writes: tuple.pendingWrites,
  };

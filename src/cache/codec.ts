/**
 * What the cache stores and how entries map to buckets.
 *
 * A record is `"<expireAtMs or empty>:" + payload`; the scripts write and strip the expiry header, so the client
 * only sees payloads: the serializer's type, a newline, then the serialised bytes.
 */
import type { CacheFullKey, CacheNamespace } from "@langchain/langgraph-checkpoint";
import { CorruptDataError, describeValue, InvalidInputError } from "../errors.js";
import { cacheBucketKeys, cacheNamespaceMember } from "../keys.js";
import { asBuffer } from "../saver/codec.js";
import type { CacheContext } from "./context.js";

/** Rejects what a namespace or key cannot be: a non-array namespace, a non-string label or key. */
export function requireNamespace(namespace: unknown, operation: string): asserts namespace is CacheNamespace {
  if (!Array.isArray(namespace)) {
    throw new InvalidInputError(`${operation}: a cache namespace must be an array of strings`);
  }
  for (const label of namespace) {
    if (typeof label !== "string") {
      throw new InvalidInputError(
        `${operation}: cache namespace labels must be strings, received ${describeValue(label)}`,
      );
    }
  }
}

export function requireFullKey(fullKey: unknown, operation: string): asserts fullKey is CacheFullKey {
  if (!Array.isArray(fullKey) || fullKey.length !== 2) {
    throw new InvalidInputError(`${operation}: a cache key must be [namespace, key]`);
  }
  requireNamespace(fullKey[0], operation);
  if (typeof fullKey[1] !== "string") {
    throw new InvalidInputError(`${operation}: the key part of a cache key must be a string`);
  }
}

/** FNV-1a over the key's UTF-16 code units: cheap, stable across processes, spreads LangGraph's hex keys evenly. */
export function bucketOf(key: string, buckets: number): number {
  if (buckets === 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % buckets;
}

/** Cache keys grouped by the bucket they live in; `indexes` are the positions in the caller's list. */
export interface BucketGroup {
  readonly entries: string;
  readonly expiry: string;
  readonly fields: string[];
  readonly indexes: number[];
}

export function groupByBucket(ctx: CacheContext, fullKeys: readonly CacheFullKey[]): BucketGroup[] {
  const groups = new Map<string, BucketGroup>();
  fullKeys.forEach(([namespace, key], index) => {
    const keys = cacheBucketKeys(ctx.keyPrefix, namespace, bucketOf(key, ctx.buckets));
    let group = groups.get(keys.entries);
    if (group === undefined) {
      group = { entries: keys.entries, expiry: keys.expiry, fields: [], indexes: [] };
      groups.set(keys.entries, group);
    }
    group.fields.push(key);
    group.indexes.push(index);
  });
  return [...groups.values()];
}

export function namespaceMember(namespace: CacheNamespace): string {
  return cacheNamespaceMember(namespace);
}

/** payload = type, "\n", bytes. */
export function encodePayload(type: string, bytes: Uint8Array, operation: string): Buffer {
  if (type.includes("\n")) {
    throw new InvalidInputError(
      `${operation}: the serializer returned a type with a newline (${JSON.stringify(type)})`,
    );
  }
  return Buffer.concat([Buffer.from(`${type}\n`, "utf8"), asBuffer(bytes)]);
}

export function decodePayload(payload: Buffer, key: string): [type: string, bytes: Uint8Array] {
  const newline = payload.indexOf(0x0a);
  if (newline < 0) throw new CorruptDataError(key, "a cache entry has no type line");
  return [payload.subarray(0, newline).toString("utf8"), payload.subarray(newline + 1)];
}

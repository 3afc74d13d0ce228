/**
 * Store test helpers: a RedisStore per test on a fresh key prefix, and a deterministic embeddings model (bag of
 * hashed words, integer counts, exactly representable in float32) so vector search needs no network model.
 */
import { Embeddings } from "@langchain/core/embeddings";
import type { RedisClient } from "../../src/client.js";
import { RedisStore, type RedisStoreOptions } from "../../src/index.js";
import { STORE_REGISTRY_BUCKETS, storeRegistryBucket, storeRegistryKeys } from "../../src/keys.js";
import { testPrefix } from "../helpers/redis.js";

export function newStore(client: RedisClient, options: Omit<RedisStoreOptions, "client"> = {}): RedisStore {
  return new RedisStore({ keyPrefix: testPrefix("st"), ...options, client });
}

export class HashEmbeddings extends Embeddings {
  constructor(readonly dims = 16) {
    super({});
  }

  vector(text: string): number[] {
    const out = new Array<number>(this.dims).fill(0);
    for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
      let h = 0;
      for (const ch of word) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
      out[h % this.dims] = (out[h % this.dims] ?? 0) + 1;
    }
    return out;
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    return texts.map((text) => this.vector(text));
  }

  async embedQuery(text: string): Promise<number[]> {
    return this.vector(text);
  }
}

/** The registry bucket keys of a namespace member. */
export function registryOf(keyPrefix: string, member: string) {
  return storeRegistryKeys(keyPrefix, storeRegistryBucket(member));
}

/** Every registered namespace member, read from every registry bucket (sorted). */
export async function registeredMembers(client: RedisClient, keyPrefix: string): Promise<string[]> {
  const members: string[] = [];
  for (let bucket = 0; bucket < STORE_REGISTRY_BUCKETS; bucket++) {
    members.push(...(await client.zrange(storeRegistryKeys(keyPrefix, bucket).names, "0", "-1")));
  }
  return members.sort();
}

/** Every member with a registration sequence, from every registry bucket (sorted). */
export async function sequencedMembers(client: RedisClient, keyPrefix: string): Promise<string[]> {
  const members: string[] = [];
  for (let bucket = 0; bucket < STORE_REGISTRY_BUCKETS; bucket++) {
    members.push(...(await client.hkeys(storeRegistryKeys(keyPrefix, bucket).seq)));
  }
  return members.sort();
}

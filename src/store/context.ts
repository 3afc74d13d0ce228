import { isCluster, type RedisClient } from "../client.js";
import { WriteDurability } from "../durability.js";
import { RecordCipher } from "../encryption/cipher.js";
import { type StoreRegistryKeys, storeRegistryKeys } from "../keys.js";
import type { ParsedStoreOptions } from "./options.js";

/** What every store module needs: the client, whether it is a cluster, the key prefix and the parsed options. */
export interface StoreContext {
  readonly client: RedisClient;
  readonly cluster: boolean;
  readonly prefix: string;
  readonly options: ParsedStoreOptions;
  readonly registry: StoreRegistryKeys;
  /** The durability option: the start-up persistence check and the waits after each write. */
  readonly durability: WriteDurability;
  /** The `encryption` option: seals values on write, opens them on read. */
  readonly cipher: RecordCipher | undefined;
}

/** Expired items one script removes at most on the way (the rest go on later calls; reads filter them anyway). */
export const PURGE_LIMIT = 100;

/** How long the bookkeeping of an empty namespace outlives it (guards cluster registrations in flight). */
export const RETIRED_GRACE_MS = 24 * 3600 * 1000;

export function createContext(options: ParsedStoreOptions): StoreContext {
  return {
    client: options.client,
    cluster: isCluster(options.client),
    prefix: options.keyPrefix,
    options,
    registry: storeRegistryKeys(options.keyPrefix),
    durability: new WriteDurability(options.client, options.durability, "RedisStore"),
    cipher:
      options.encryption === undefined ? undefined : new RecordCipher(options.encryption, "RedisStore.encryption"),
  };
}

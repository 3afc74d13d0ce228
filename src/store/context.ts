import { type AuditOutbox, createAuditOutbox } from "../audit/outbox.js";
import { type Compression, compressionFrom } from "../compression.js";
import { createRedisContext, MIN_SERVER_VERSION, type RedisContext } from "../context.js";
import { RecordCipher } from "../encryption/cipher.js";
import { type DeclaredField, declaredFields, fieldIndexKeys } from "./field-index.js";
import type { ParsedStoreOptions } from "./options.js";

/** What every store module needs: the shared context and the parsed options. */
export interface StoreContext extends RedisContext {
  readonly options: ParsedStoreOptions;
  /** Cluster: the largest registration sequence this store has seen or proposed (see registry.ts). */
  readonly registryClock: { last: number };
  /** The audit outbox, when the `audit` option is on. */
  readonly audit: AuditOutbox | undefined;
  /** The `encryption` option: seals values on write, opens them on read. */
  readonly cipher: RecordCipher | undefined;
  /** The `compression` option: undefined when off. */
  readonly compression: Compression | undefined;
  /** The fields of the `filterIndex` option, in declaration order (empty without it). */
  readonly fields: readonly DeclaredField[];
}

/** The filter index keys of a namespace, in declaration order (what the store scripts take as `fieldIndexes`). */
export function indexKeysOf(ctx: StoreContext, namespace: readonly string[]): string[] {
  return fieldIndexKeys(ctx.keyPrefix, namespace, ctx.fields);
}

/** Expired items one script removes at most on the way (the rest go on later calls; reads filter them anyway). */
export const PURGE_LIMIT = 100;

/** How long the bookkeeping of an empty namespace outlives it (guards cluster registrations in flight). */
export const RETIRED_GRACE_MS = 24 * 3600 * 1000;

export function createContext(options: ParsedStoreOptions): StoreContext {
  return {
    ...createRedisContext({
      client: options.client,
      keyPrefix: options.keyPrefix,
      component: "RedisStore",
      durability: options.durability,
      minServerVersion: MIN_SERVER_VERSION,
    }),
    options,
    registryClock: { last: 0 },
    audit: createAuditOutbox(options.client, options.keyPrefix, options.audit),
    cipher:
      options.encryption === undefined ? undefined : new RecordCipher(options.encryption, "RedisStore.encryption"),
    compression: compressionFrom(options.compression),
    fields: declaredFields(options.filterIndex),
  };
}

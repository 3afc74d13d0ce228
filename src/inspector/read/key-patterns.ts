/**
 * SCAN patterns and key parsers derived from src/keys.ts: each builder is called with placeholder parts, so the
 * inspector recognises exactly the keys the library writes, and follows any change to their names.
 */
import {
  bucketTag,
  decodeKeyPart,
  fenceCounterKey,
  keyPrefixStart,
  lockKey,
  runLeaseIndexKey,
  STORE_REGISTRY_BUCKETS,
  saverLegacyRunThreadsKey,
  saverRunThreadsKey,
  saverThreadIndexKey,
  saverThreadKeys,
  storeItemKeys,
  storeNamespaceKeys,
  storeRegistryKeys,
  storeRegistrySequenceKey,
  threadRegistryKeys,
} from "../../keys.js";

/** Placeholder parts: characters encodeKeyPart leaves alone and no real id contains. */
const HOLE = ["\u0001", "\u0002"] as const;
/** Placeholder for a bucket's hash tag content (matched, not captured). */
const ANY_BUCKET = "\u0003";

/** A key of bucket 0 with its bucket tag made a placeholder, so the template matches the key of every bucket. */
function anyBucket(key: string): string {
  return key.replace(`{${bucketTag(0)}}`, `{${ANY_BUCKET}}`);
}

interface Template {
  /** SCAN MATCH pattern: the key with every placeholder as "*". */
  readonly pattern: string;
  readonly regex: RegExp;
}

function template(key: string): Template {
  const glob = key
    .replace(/[*?[\]\\]/g, (ch) => `\\${ch}`)
    .replaceAll(HOLE[0], "*")
    .replaceAll(HOLE[1], "*")
    .replaceAll(ANY_BUCKET, "*");
  const source = key
    .replace(/[.*+?^${}()|[\]\\]/g, (ch) => `\\${ch}`)
    .replaceAll(HOLE[0], "(.*)")
    .replaceAll(HOLE[1], "(.*)")
    .replaceAll(ANY_BUCKET, "[^{}]*");
  return { pattern: glob, regex: new RegExp(`^${source}$`, "s") };
}

/** Splits a hash tag's content (the part between the braces) into its decoded labels. */
function tagParts(content: string): string[] {
  return content.split(":").map(decodeKeyPart);
}

export type KeyOwner =
  | { readonly kind: "thread"; readonly threadId: string }
  | { readonly kind: "namespace"; readonly namespace: readonly string[] }
  | { readonly kind: "lock"; readonly name: string }
  | { readonly kind: "fence"; readonly name: string }
  | { readonly kind: "leases"; readonly graph: string }
  | { readonly kind: "index"; readonly name: string }
  | { readonly kind: "other" };

export class KeyPatterns {
  readonly lock: Template;
  readonly fence: Template;
  readonly leaseIndex: Template;
  readonly leaseAny: Template;
  readonly threadRegistry: readonly Template[];
  readonly runThreads: readonly Template[];
  readonly threadKeys: readonly Template[];
  readonly namespaceKeys: readonly Template[];
  readonly itemKeys: readonly Template[];
  readonly everything: string;

  constructor(readonly prefix: string) {
    this.lock = template(lockKey(prefix, HOLE[0]));
    this.fence = template(fenceCounterKey(prefix, HOLE[0]));
    this.leaseIndex = template(anyBucket(runLeaseIndexKey(prefix, HOLE[0], 0)));
    // Every key of one graph's lease index, in any bucket: the index key with another suffix.
    const indexKey = anyBucket(runLeaseIndexKey(prefix, HOLE[0], 0));
    this.leaseAny = template(`${indexKey.slice(0, indexKey.lastIndexOf(":") + 1)}${HOLE[1]}`);
    this.threadRegistry = Object.values(threadRegistryKeys(prefix, 0)).map((key) => template(anyBucket(key)));
    this.runThreads = [saverRunThreadsKey, saverLegacyRunThreadsKey].map((key) => template(key(prefix, HOLE[0])));
    this.threadKeys = saverThreadKeys(prefix, HOLE[0]).all.map(template);
    this.namespaceKeys = Object.values(storeNamespaceKeys(prefix, [HOLE[0]])).map(template);
    this.itemKeys = Object.values(storeItemKeys(prefix, [HOLE[0]], HOLE[1])).map(template);
    this.everything = `${keyPrefixStart(prefix).replace(/[*?[\]\\]/g, (ch) => `\\${ch}`)}*`;
  }

  /** The lock name of a lock key, or undefined. */
  lockName(key: string): string | undefined {
    const match = this.lock.regex.exec(key);
    return match ? decodeKeyPart(match[1] ?? "") : undefined;
  }

  /** The graph name of a lease index key, or undefined. */
  leaseGraph(key: string): string | undefined {
    const match = this.leaseIndex.regex.exec(key);
    return match ? decodeKeyPart(match[1] ?? "") : undefined;
  }

  /** Which thread, namespace, lock or index a key belongs to (for `memory`). */
  owner(key: string): KeyOwner {
    for (const t of this.threadKeys) {
      const match = t.regex.exec(key);
      if (match) return { kind: "thread", threadId: decodeKeyPart(match[1] ?? "") };
    }
    for (const t of [...this.namespaceKeys, ...this.itemKeys]) {
      const match = t.regex.exec(key);
      if (match) return { kind: "namespace", namespace: tagParts(match[1] ?? "") };
    }
    const lock = this.lockName(key);
    if (lock !== undefined) return { kind: "lock", name: lock };
    const fence = this.fence.regex.exec(key);
    if (fence) return { kind: "fence", name: decodeKeyPart(fence[1] ?? "") };
    const lease = this.leaseAny.regex.exec(key);
    if (lease) return { kind: "leases", graph: decodeKeyPart(lease[1] ?? "") };
    if (key === saverThreadIndexKey(this.prefix)) return { kind: "index", name: "thread index" };
    if (this.threadRegistry.some((t) => t.regex.test(key))) return { kind: "index", name: "thread registry" };
    if (this.runThreads.some((t) => t.regex.test(key))) return { kind: "index", name: "run index" };
    if (this.isStoreRegistry(key)) return { kind: "index", name: "store registry" };
    return { kind: "other" };
  }

  /** A key of one of the store registry's buckets, or its standalone sequence counter. */
  private isStoreRegistry(key: string): boolean {
    if (key === storeRegistrySequenceKey(this.prefix)) return true;
    for (let bucket = 0; bucket < STORE_REGISTRY_BUCKETS; bucket++) {
      if (Object.values(storeRegistryKeys(this.prefix, bucket)).includes(key)) return true;
    }
    return false;
  }
}

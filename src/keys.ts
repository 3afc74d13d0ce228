/**
 * The one place that builds Redis key names. Every key of one thread (or one store item, or one lock) carries the
 * same cluster hash tag `{...}`, so every script touches one slot; scripts receive all keys in KEYS.
 *
 * User-supplied parts (thread ids, namespaces, item keys) are escaped with `encodeKeyPart`, so `{`, `}` and `:`
 * in them can neither open a hash tag nor fake a separator. Redis keys are binary-safe, so unicode stays as is.
 */

/** Escapes `%`, `{`, `}` and `:` as %XX; reversible with decodeKeyPart. */
export function encodeKeyPart(part: string): string {
  return part.replace(/[%{}:]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
}

export function decodeKeyPart(encoded: string): string {
  return encoded.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** `{tag}`: the hash tag every key of one unit (thread, item, lock) shares. */
export function hashTag(...parts: readonly string[]): string {
  return `{${parts.map(encodeKeyPart).join(":")}}`;
}

// ---- fencing (shared by guard and store) ----

/** Counter of fencing tokens issued for one lock key; INCR on each acquisition. Shares the lock's hash tag. */
export function fenceCounterKey(prefix: string, lockKey: string): string {
  return `${prefix}:fence:${hashTag(lockKey)}`;
}

/** The redis-semaphore Mutex key for one lock key. Same hash tag as its fence counter. */
export function lockKey(prefix: string, lockName: string): string {
  return `${prefix}:lock:${hashTag(lockName)}`;
}

// ---- recovery (run leases) ----
// One lease index per graph name: a sorted set of leased runs scored by expiry (Redis server time, ms), a hash of
// who holds each lease, and a counter issuing lease tokens. The three share one hash tag, so every lease script
// touches one slot; finding expired leases reads only the index, never the threads' keys.

/** Sorted set: run member -> lease expiry (Unix ms, server clock). */
export function runLeaseIndexKey(prefix: string, graphName: string): string {
  return `${prefix}:recovery:${hashTag("leases", graphName)}:expiry`;
}

/** Hash: run member -> "<token>:<kind>:<sinceMs>:<owner>" (kind is "lease" or "claim"). */
export function runLeaseHoldersKey(prefix: string, graphName: string): string {
  return `${prefix}:recovery:${hashTag("leases", graphName)}:holders`;
}

/** Counter: INCR issues each lease or claim token, so tokens of one graph only ever increase. */
export function runLeaseTokenKey(prefix: string, graphName: string): string {
  return `${prefix}:recovery:${hashTag("leases", graphName)}:token`;
}

/** Index member naming one run: the thread id and checkpoint namespace, each escaped, joined by ":". */
export function runLeaseMember(threadId: string, checkpointNs: string): string {
  return `${encodeKeyPart(threadId)}:${encodeKeyPart(checkpointNs)}`;
}

/** Inverse of runLeaseMember; undefined for a member it did not build. */
export function parseRunLeaseMember(member: string): { threadId: string; checkpointNs: string } | undefined {
  const parts = member.split(":");
  if (parts.length !== 2) return undefined;
  return { threadId: decodeKeyPart(parts[0] ?? ""), checkpointNs: decodeKeyPart(parts[1] ?? "") };
}

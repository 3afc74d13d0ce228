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

// ---- guard ----

/**
 * The key redis-semaphore's Mutex actually writes for a lock: it prepends `mutex:` to the name it is given
 * (`lockKey(...)`). The hash tag is unchanged, so the mutex key and its fence counter stay in one slot.
 */
export function mutexKey(prefix: string, lockName: string): string {
  return `mutex:${lockKey(prefix, lockName)}`;
}

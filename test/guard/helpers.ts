/** Small helpers shared by the guard tests. */
import type { RedisClient } from "../../src/client.js";
import { fenceCounterKey, lockKey } from "../../src/keys.js";

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Whether the lock on `name` exists in Redis right now. */
export async function isLocked(client: RedisClient, prefix: string, name: string): Promise<boolean> {
  return (await client.exists(lockKey(prefix, name))) === 1;
}

export async function fenceCounter(client: RedisClient, prefix: string, name: string): Promise<number | null> {
  const value = await client.get(fenceCounterKey(prefix, name));
  return value === null ? null : Number(value);
}

/** Polls until `check` is true; bounded so a broken expectation fails instead of hanging. */
export async function until(check: () => boolean | Promise<boolean>, what: string, limitMs = 20_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

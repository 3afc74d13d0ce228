/**
 * Helpers for the corrupt-bytes tests: bytes that are not a valid record of ours, and the expectation that a read
 * meeting them either returns untouched data or fails with CorruptDataError naming the key.
 */
import fc from "fast-check";
import { CorruptDataError, type RedisClient } from "../../src/index.js";

/** Bytes that are not a valid record of ours, derived from the original value `original`. */
export const garbage = (original: Buffer): fc.Arbitrary<Buffer> =>
  fc.oneof(
    fc.uint8Array({ minLength: 0, maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
    fc.integer({ min: 0, max: Math.max(0, original.length - 1) }).map((n) => original.subarray(0, n)),
    fc.constantFrom(
      Buffer.from(""),
      Buffer.from("hello"),
      Buffer.from('{"v":1,"data":"from another program"}'),
      Buffer.from([0x80, 0x04, 0x95, 0x10, 0x00]), // a pickle header
      Buffer.from([0x1f, 0x8b, 0x08, 0x00]), // a gzip header
      Buffer.from("\u0001\u0000\u0000\u0000\u0005json"),
    ),
  );

export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export async function outcome(fn: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** A read that met planted bytes under `key`: either untouched data, or CorruptDataError naming that key. */
export function expectNamedOrIntact(result: Outcome, key: string, intact: unknown): void {
  if (result.ok) {
    expect(result.value).toEqual(intact);
    return;
  }
  expect(result.error, String(result.error)).toBeInstanceOf(CorruptDataError);
  expect((result.error as CorruptDataError).key).toBe(key);
  expect((result.error as Error).message).toContain(key);
}

export async function hashFields(client: RedisClient, key: string): Promise<Buffer[]> {
  return (await client.hkeysBuffer(key)) as Buffer[];
}

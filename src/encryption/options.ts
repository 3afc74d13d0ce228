import { z } from "zod";
import { describeValue, InvalidOptionError } from "../errors.js";

/** Key ids travel in every record: short, printable, no separators. */
const keyIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._-]+$/, "a key id of 1 to 64 letters, digits, '.', '_' or '-'");

/** A 256-bit key: 32 bytes, as a Buffer/Uint8Array or a base64 string. */
const keyMaterialSchema = z.union([
  z.custom<Uint8Array>((value) => value instanceof Uint8Array && value.byteLength === 32),
  z.string().refine((value) => /^[A-Za-z0-9+/_-]+={0,2}$/.test(value) && Buffer.from(value, "base64").length === 32),
]);

export const encryptionOptionsSchema = z
  .object({
    /** Every key that may have written a record still in Redis, by key id (32 bytes each). */
    keys: z.record(keyIdSchema, keyMaterialSchema),
    /** The key id new records are written with; must be one of `keys`. */
    currentKeyId: keyIdSchema,
    /** Refuse to read records that are not encrypted (PlaintextRecordError). Turn off only while migrating. */
    requireEncrypted: z.boolean().default(true),
  })
  .strict();

/** Encryption at rest: AES-256-GCM keys by id, the current one, and whether plaintext records are refused. */
export type EncryptionOptions = z.input<typeof encryptionOptionsSchema>;
export type ParsedEncryptionOptions = z.output<typeof encryptionOptionsSchema>;

/**
 * Validates encryption options. Unlike other options, a bad key is never echoed in the error (it is secret): the
 * message says what was wrong with it (type, length) and nothing of its content.
 */
export function parseEncryptionOptions(input: unknown, owner: string): ParsedEncryptionOptions {
  const result = encryptionOptionsSchema.safeParse(input ?? {});
  if (result.success) {
    const parsed = result.data;
    if (Object.keys(parsed.keys).length === 0) {
      throw new InvalidOptionError(`${owner}.keys`, "an empty object", "at least one key");
    }
    if (!Object.hasOwn(parsed.keys, parsed.currentKeyId)) {
      throw new InvalidOptionError(
        `${owner}.currentKeyId`,
        parsed.currentKeyId,
        `one of the key ids in keys (${Object.keys(parsed.keys).join(", ")})`,
      );
    }
    return parsed;
  }
  const issue = result.error.issues[0];
  const path = issue?.path.map(String) ?? [];
  const option = [owner, ...path].join(".");
  if (path[0] === "keys" && path.length === 2) {
    const value = (input as { keys?: Record<string, unknown> }).keys?.[path[1] as string];
    const shape =
      value instanceof Uint8Array
        ? `a ${value.byteLength}-byte key`
        : typeof value === "string"
          ? `a string of ${value.length} characters (not shown)`
          : describeValue(typeof value);
    throw new InvalidOptionError(option, shape, "a 32-byte key (Buffer, Uint8Array or base64 string)", {
      cause: result.error,
    });
  }
  let received: unknown = input;
  for (const segment of path) {
    received =
      received !== null && typeof received === "object" ? (received as Record<string, unknown>)[segment] : undefined;
  }
  const expected = (issue?.message ?? "a valid value")
    .replace(/^Invalid input: expected /, "")
    .replace(/, received .*$/, "");
  throw new InvalidOptionError(option, path[0] === "keys" ? "(key material, not shown)" : received, expected, {
    cause: result.error,
  });
}

import { z } from "zod";
import { InvalidOptionError } from "./errors.js";

/**
 * Validates an options object against its zod schema and returns it with defaults applied. The first problem is
 * reported as an InvalidOptionError that names the option (with its path), echoes the value and says what is allowed.
 */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, owner: string): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.map(String).join(".") ?? "";
  const option = path === "" ? owner : `${owner}.${path}`;
  const received = path === "" ? input : valueAt(input, issue?.path ?? []);
  const expected = (issue?.message ?? "a valid value")
    .replace(/^[A-Z][a-z]+(?: [a-z]+)*: expected /, "")
    .replace(/, received .*$/, "");
  throw new InvalidOptionError(option, received, expected, { cause: result.error });
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

/** Shared option fragments, so every class spells and validates them the same way. */
export const keyPrefixSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[^{}\s]+$/, "a non-empty prefix without braces or whitespace")
  .default("lgr");

export const durationMsSchema = z
  .number()
  .int()
  .positive()
  .max(2 ** 31 - 1);

/** A TTL in ms, up to 100 years: TTLs are often weeks or months, beyond what a timer could hold. */
export const ttlMsSchema = z
  .number()
  .int()
  .positive()
  .max(100 * 365 * 24 * 3600 * 1000);

/**
 * The `ttl` option, spelled and defaulted the same for RedisSaver (a thread's keys) and RedisStore (an item):
 * `defaultTtlMs` is how long data lives after its last write (unset: forever); `refreshOnRead` makes a read restart
 * that time too.
 */
export const ttlOptionsSchema = z
  .object({
    /** Lifetime after the last write, in ms; unset = never expires. RedisStore writes may pass their own `ttlMs`. */
    defaultTtlMs: ttlMsSchema.optional(),
    /** Reading (RedisSaver getTuple/list, RedisStore get/search) restarts the TTL too. */
    refreshOnRead: z.boolean().default(true),
  })
  .strict()
  .default({ refreshOnRead: true });

export type TtlOptions = z.input<typeof ttlOptionsSchema>;

/** An ioredis Redis or Cluster instance (checked structurally so two copies of ioredis still work). */
export const clientSchema = z.custom<import("./client.js").RedisClient>(
  (value) =>
    value !== null &&
    typeof value === "object" &&
    typeof (value as { defineCommand?: unknown }).defineCommand === "function",
  { message: "an ioredis Redis or Cluster instance" },
);

import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";
import { z } from "zod";
import { InvalidOptionError } from "./errors.js";

/**
 * Validates an options object against its zod schema and returns it with defaults applied. The first problem is
 * reported as an InvalidOptionError that names the option (with its path), echoes the value and says what is allowed.
 */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, owner: string): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  // An unknown option first: a misspelt one (`keyprefix`) is usually also why another option looks missing.
  const unknown = result.error.issues.find((candidate) => candidate.code === "unrecognized_keys");
  if (unknown !== undefined && unknown.code === "unrecognized_keys") {
    const name = unknown.keys[0] ?? "";
    const where = [...unknown.path, name].map(String).join(".");
    const known = knownOptions(schema, unknown.path);
    const close = closestName(name, known);
    const expected =
      close !== undefined
        ? `a known option (did you mean \`${close}\`?)`
        : `one of the known options (${known.join(", ") || "none"})`;
    throw new InvalidOptionError(`${owner}.${where}`, valueAt(input, [...unknown.path, name]), expected, {
      cause: result.error,
    });
  }
  const issue = result.error.issues[0];
  const path = issue?.path.map(String).join(".") ?? "";
  const option = path === "" ? owner : `${owner}.${path}`;
  const received = path === "" ? input : valueAt(input, issue?.path ?? []);
  const expected = (issue?.message ?? "a valid value")
    .replace(/^[A-Z][a-z]+(?: [a-z]+)*: expected /, "")
    .replace(/, received .*$/, "");
  throw new InvalidOptionError(option, received, expected, { cause: result.error });
}

/** The option names the object schema at `path` accepts (optional, default and nullable wrappers unwrapped). */
function knownOptions(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: unknown = schema;
  const unwrap = () => {
    for (let i = 0; i < 10; i++) {
      const def = (current as { _zod?: { def?: { innerType?: unknown; in?: unknown; options?: unknown[] } } })?._zod
        ?.def;
      if (def?.innerType !== undefined) current = def.innerType;
      else if (def?.in !== undefined) current = def.in;
      else if (Array.isArray(def?.options)) {
        // a union such as `false | { ... }`: the object member is the one whose keys can be misspelt
        const object = def.options.find((option) => (option as { shape?: unknown })?.shape !== undefined);
        if (object === undefined) return;
        current = object;
      } else return;
    }
  };
  for (const segment of path) {
    unwrap();
    current = (current as { shape?: Record<PropertyKey, unknown> })?.shape?.[segment];
  }
  unwrap();
  const shape = (current as { shape?: Record<string, unknown> })?.shape;
  return shape === undefined ? [] : Object.keys(shape);
}

/**
 * The known name closest to a misspelt one, if one is close: the same but for case (`leaseMS`), the start of one
 * (`ttl` for `ttlMs`), or a few edits away (one for names up to 6 characters, two beyond).
 */
function closestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const other = candidate.toLowerCase();
    const distance =
      other === lower ? 0 : lower.length >= 3 && other.startsWith(lower) ? 1 : editDistance(lower, other);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = name.length <= 3 ? 0 : name.length <= 6 ? 1 : 2;
  return bestDistance <= Math.max(allowed, 1) && (bestDistance <= allowed || lower.length >= 3) ? best : undefined;
}

/** Edits (insert, delete, replace, swap two neighbours) that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, (before[j - 2] ?? 0) + 1);
      row[j] = best;
    }
    before = previous;
    previous = row;
  }
  return previous[b.length] ?? 0;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

/**
 * Shared option fragments, so every class spells and validates them the same way.
 *
 * A key prefix cannot hold `|`, the character that ends it in every key (KEY_PREFIX_END in keys.ts): that is what
 * keeps the keys of `pa` and `pa:b` apart. Braces would open a hash tag, whitespace is refused to catch typos.
 */
export const keyPrefixSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[^{}|\s]+$/, "a non-empty prefix without braces, `|` or whitespace")
  .default("lgr");

export const durationMsSchema = z
  .number()
  .int()
  .positive()
  .max(2 ** 31 - 1);

/** Methods of ioredis' Redis and Cluster that the library calls; an object lacking one is not a client it can use. */
const CLIENT_METHODS = ["defineCommand", "info", "pipeline", "multi", "evalsha", "get", "set", "on", "quit"] as const;

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

/**
 * An ioredis Redis or Cluster instance (checked structurally so two copies of ioredis still work) whose replies come
 * in ioredis's default shapes (see unsupportedReplyOption).
 */
export const clientSchema = z
  .custom<import("./client.js").RedisClient>(
    (value) =>
      value !== null &&
      typeof value === "object" &&
      CLIENT_METHODS.every((method) => typeof (value as Record<string, unknown>)[method] === "function") &&
      (!(value as { isCluster?: unknown }).isCluster || typeof (value as { nodes?: unknown }).nodes === "function"),
    { message: "an ioredis Redis or Cluster instance" },
  )
  .superRefine((client, ctx) => {
    const found = unsupportedReplyOption(client);
    if (found === undefined) return;
    ctx.addIssue({
      code: "custom",
      message:
        `a client whose replies keep ioredis's default shapes, not one with \`${found.option}\` (the library reads ` +
        "integers, maps and scores as ioredis returns them by default, and would misread them); give the library a " +
        `client of its own without it, e.g. client.duplicate({ ${found.fix} }) (for a Cluster, in its redisOptions)`,
    });
  });

/**
 * The ioredis option of `client` that changes the shape of replies the library parses (as `name: value`, with the
 * setting that undoes it), or undefined: `stringNumbers` (integers as strings) and `replyMapping: "resp3"` (maps as objects, scores as numbers,
 * score pairs nested, booleans). A Cluster's are its `redisOptions`. `protocol` 2 or 3 alone is fine.
 */
function unsupportedReplyOption(
  client: import("./client.js").RedisClient,
): { option: string; fix: string } | undefined {
  const holder = client as unknown as { isCluster?: boolean; options?: Record<string, unknown> };
  const options = (holder.isCluster ? holder.options?.redisOptions : holder.options) as
    | { stringNumbers?: unknown; replyMapping?: unknown }
    | undefined;
  if (options?.stringNumbers === true) return { option: "stringNumbers: true", fix: "stringNumbers: false" };
  if (options?.replyMapping === "resp3") return { option: 'replyMapping: "resp3"', fix: 'replyMapping: "legacy"' };
  return undefined;
}

/** A LangGraph serializer (dumpsTyped/loadsTyped), checked structurally: the `serde` option. */
export const serdeSchema = z.custom<SerializerProtocol>(
  (value) =>
    value !== null &&
    typeof value === "object" &&
    typeof (value as { dumpsTyped?: unknown }).dumpsTyped === "function" &&
    typeof (value as { loadsTyped?: unknown }).loadsTyped === "function",
  { message: "a serializer with dumpsTyped() and loadsTyped()" },
);

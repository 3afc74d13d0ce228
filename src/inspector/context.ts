/** What every inspector command gets: the connection, the prefix, the library's readers, and where to print. */
import type { RedisClient } from "../client.js";
import type { ParsedEncryptionOptions } from "../encryption/options.js";
import { EncryptedSerializer } from "../encryption/serializer.js";
import { RedisSaver } from "../saver/redis-saver.js";
import { RedisStore } from "../store/redis-store.js";
import { InspectorUsageError } from "./errors.js";
import type { Io } from "./output.js";
import { KeyPatterns } from "./read/key-patterns.js";
import { scanKeys } from "./read/scan.js";

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface CommandContext {
  readonly client: RedisClient;
  readonly url: string;
  readonly prefix: string;
  readonly saver: RedisSaver;
  readonly store: RedisStore;
  readonly patterns: KeyPatterns;
  readonly io: Io;
  readonly json: boolean;
  readonly args: readonly string[];
  readonly options: OptionValues;
  /** Most keys one SCAN walk may return (--max-keys). */
  readonly maxKeys: number;
  /** Stops long-running commands (view --serve). */
  readonly signal: AbortSignal | undefined;
  /** A progress line on standard error (not with --quiet). */
  progress(text: string): void;
}

export interface CommandResult {
  /** What --json prints. */
  readonly data: unknown;
  /** What is printed for people. */
  readonly text: string;
  /** Exit code other than 0 (for example: some resumes failed). */
  readonly code?: number;
}

export function createContext(input: {
  client: RedisClient;
  url: string;
  prefix: string;
  io: Io;
  json: boolean;
  quiet: boolean;
  args: readonly string[];
  options: OptionValues;
  maxKeys: number;
  signal: AbortSignal | undefined;
  /** The keys of --keys-file: values are decrypted with them (plaintext ones read too). */
  encryption: ParsedEncryptionOptions | undefined;
}): CommandContext {
  const { client, prefix, encryption, ...rest } = input;
  return {
    ...rest,
    client,
    prefix,
    saver: new RedisSaver({
      client,
      keyPrefix: prefix,
      // It reads checkpoints of many threads and loads few histories: no walk brought with every read.
      deltaHistoryReadAhead: false,
      ...(encryption ? { serde: new EncryptedSerializer(encryption) } : {}),
    }),
    store: new RedisStore({ client, keyPrefix: prefix, ...(encryption ? { encryption } : {}) }),
    patterns: new KeyPatterns(prefix),
    progress: (text) => {
      if (!input.quiet) input.io.err(`${text}\n`);
    },
  };
}

/** The positional argument at `index`, or a usage error naming it. */
export function requireArg(ctx: CommandContext, index: number, name: string): string {
  const value = ctx.args[index];
  if (value === undefined || value === "") throw new InspectorUsageError(`missing argument <${name}>`);
  return value;
}

export function stringOption(ctx: CommandContext, name: string): string | undefined {
  const value = ctx.options[name];
  return typeof value === "string" ? value : undefined;
}

export function intOption(ctx: CommandContext, name: string, fallback: number, min = 1): number {
  const text = stringOption(ctx, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new InspectorUsageError(`--${name} must be an integer of at least ${min}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** A namespace on the command line: labels joined by "." (labels cannot contain "."), e.g. "users.alice". */
export function parseNamespace(text: string): string[] {
  const labels = text.split(".");
  if (labels.some((label) => label === "")) {
    throw new InspectorUsageError(
      `namespace ${JSON.stringify(text)}: write its labels joined by ".", e.g. users.alice`,
    );
  }
  return labels;
}

/**
 * Whether anything at all is stored under the prefix: one bounded SCAN (at most a few hundred thousand keys
 * examined). Used to tell "nothing matched" from "wrong prefix".
 */
export async function prefixIsEmpty(ctx: CommandContext): Promise<boolean> {
  const { keys } = await scanKeys(ctx.client, ctx.patterns.everything, { maxKeys: 1, maxCalls: 200 });
  return keys.length === 0;
}

export function emptyPrefixMessage(ctx: CommandContext, what: string): string {
  return (
    `no ${what} under the key prefix ${JSON.stringify(ctx.prefix)}, and no keys at all under it: pass the keyPrefix ` +
    'your RedisSaver / RedisStore / guarded() use with --prefix (the library\'s default is "lgr"), or check --url ' +
    "points at the right server and database"
  );
}

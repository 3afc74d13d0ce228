/**
 * The inspector CLI: `langgraph-redis <command> [arguments] [options]`. main() takes the arguments and where to
 * print, and resolves to the exit code, so tests call it directly and bin.ts only wires it to the process.
 */
import { parseArgs } from "node:util";
import { keyPrefixSchema } from "../options.js";
import type { CommandContext, CommandResult } from "./context.js";
import { describeFailure, EXIT, InspectorUsageError } from "./errors.js";
import { type Io, toJson } from "./output.js";

// Commands, the library and LangGraph load only when a command runs, so --help and usage errors answer at once.
const threadsCommand = lazy(() => import("./commands/threads.js"), "threadsCommand");
const historyCommand = lazy(() => import("./commands/history.js"), "historyCommand");
const stateCommand = lazy(() => import("./commands/state.js"), "stateCommand");
const locksCommand = lazy(() => import("./commands/locks.js"), "locksCommand");
const runsCommand = lazy(() => import("./commands/runs.js"), "runsCommand");
const resumeCommand = lazy(() => import("./commands/resume.js"), "resumeCommand");
const storeCommand = lazy(() => import("./commands/store.js"), "storeCommand");
const memoryCommand = lazy(() => import("./commands/memory.js"), "memoryCommand");
const viewCommand = lazy(() => import("./commands/view.js"), "viewCommand");

function lazy<M extends Record<string, unknown>, K extends keyof M>(load: () => Promise<M>, name: K) {
  return async (ctx: CommandContext): Promise<CommandResult> =>
    ((await load())[name] as (ctx: CommandContext) => Promise<CommandResult>)(ctx);
}

const OPTIONS = {
  url: { type: "string" },
  prefix: { type: "string" },
  json: { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
  "max-keys": { type: "string" },
  "timeout-ms": { type: "string" },
  "keys-file": { type: "string" },
  limit: { type: "string" },
  scan: { type: "string" },
  status: { type: "string" },
  match: { type: "string" },
  since: { type: "string" },
  ns: { type: "string" },
  checkpoint: { type: "string" },
  graph: { type: "string" },
  "graph-name": { type: "string" },
  "dry-run": { type: "boolean" },
  concurrency: { type: "string" },
  top: { type: "string" },
  out: { type: "string" },
  serve: { type: "boolean" },
  port: { type: "string" },
  item: { type: "string", multiple: true },
  postgres: { type: "string" },
  schema: { type: "string" },
  events: { type: "string" },
} as const;

type OptionName = keyof typeof OPTIONS;

const GLOBAL: readonly OptionName[] = ["url", "prefix", "json", "quiet", "help", "max-keys", "timeout-ms", "keys-file"];

interface Command {
  readonly run: (ctx: CommandContext) => Promise<CommandResult>;
  readonly usage: string;
  readonly options: readonly OptionName[];
}

const COMMANDS: Record<string, Command> = {
  threads: {
    run: threadsCommand,
    usage:
      "threads [--status running|crashed|interrupted|error|pending|done] [--match glob] [--since 15m] [--limit 50]",
    options: ["status", "match", "since", "limit", "scan"],
  },
  history: { run: historyCommand, usage: "history <thread> [--ns namespace] [--limit 1000]", options: ["ns", "limit"] },
  state: {
    run: stateCommand,
    usage: "state <thread> [--checkpoint id] [--ns namespace]",
    options: ["checkpoint", "ns"],
  },
  locks: { run: locksCommand, usage: "locks", options: [] },
  runs: {
    run: runsCommand,
    usage: "runs [--graph-name name] [--graph module[#export]] [--limit 1000]",
    options: ["graph", "graph-name", "limit"],
  },
  resume: {
    run: resumeCommand,
    usage: "resume --graph module[#export] [--limit 100] [--concurrency 4] [--dry-run]",
    options: ["graph", "limit", "concurrency", "dry-run"],
  },
  store: {
    run: storeCommand,
    usage: "store ls [namespace] | store get <namespace> <key> | store history <namespace> <key>   (namespace: a.b.c)",
    options: ["limit"],
  },
  memory: { run: memoryCommand, usage: "memory [--top 20]", options: ["top"] },
  view: {
    run: viewCommand,
    usage:
      "view [thread...] [--item namespace/key]... [--out page.html | --serve [--port n]] [--limit 5]\n" +
      "       [--postgres url [--schema langgraph_redis]] [--events 20000]",
    options: ["item", "out", "serve", "port", "limit", "postgres", "schema", "events"],
  },
};

export const USAGE = `langgraph-redis: look at what langgraph-redis keeps in Redis (read-only, except resume)

usage: langgraph-redis <command> [arguments] [options]

commands:
${Object.values(COMMANDS)
  .map((c) => `  ${c.usage}`)
  .join("\n")}

options for every command:
  --url <url>          redis://[user:password@]host:port[/db], rediss:// (TLS),
                       redis+cluster://host1:port1,host2:port2, or redis+sentinel://host1:port1,host2:port2/master
                       (default: REDIS_URL, else redis://127.0.0.1:6379; the sentinels' own password, if they have
                       one: LANGGRAPH_REDIS_SENTINEL_PASSWORD)
  --prefix <prefix>    the keyPrefix your RedisSaver / RedisStore / guarded() use (default: LANGGRAPH_REDIS_PREFIX, else lgr)
  --json               print one JSON document (for scripts) instead of tables
  --quiet, -q          no progress lines on standard error
  --max-keys <n>       most keys one SCAN walk returns (locks, runs, memory; default 100000)
  --timeout-ms <n>     how long to wait for Redis to answer the first command (default 5000)
  --keys-file <file>   encrypted values (EncryptedSerializer, RedisStore encryption): a JSON file of key id to
                       base64 key, {"2026-11": "..."} (default: LANGGRAPH_REDIS_KEYS_FILE)
  --help, -h           this text

exit codes: 0 ok, 1 failed (a resume failed, unreadable data), 2 usage error, 3 cannot connect or credentials
refused, 4 not found (thread, checkpoint, item, or nothing under the prefix), 5 refused by the Redis ACL (NOPERM)
`;

export interface MainOptions {
  /** Stops `view --serve` (and ends main) when aborted. */
  readonly signal?: AbortSignal;
}

export async function main(argv: readonly string[], io: Io, options: MainOptions = {}): Promise<number> {
  let url = io.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  try {
    const parsed = parse(argv);
    if (parsed.help || parsed.command === undefined) {
      io.out(
        parsed.command !== undefined && COMMANDS[parsed.command]
          ? `usage: langgraph-redis ${COMMANDS[parsed.command]?.usage}\n`
          : USAGE,
      );
      return parsed.help ? EXIT.ok : EXIT.usage;
    }
    const command = COMMANDS[parsed.command];
    if (command === undefined) {
      throw new InspectorUsageError(
        `unknown command ${JSON.stringify(parsed.command)}; commands: ${Object.keys(COMMANDS).join(", ")}`,
      );
    }
    for (const name of Object.keys(parsed.values) as OptionName[]) {
      if (!GLOBAL.includes(name) && !command.options.includes(name)) {
        throw new InspectorUsageError(
          `${parsed.command} does not take --${name}; usage: langgraph-redis ${command.usage}`,
        );
      }
    }
    url = stringValue(parsed.values.url) ?? url;
    const prefix = stringValue(parsed.values.prefix) ?? io.env.LANGGRAPH_REDIS_PREFIX ?? "lgr";
    if (!keyPrefixSchema.safeParse(prefix).success) {
      throw new InspectorUsageError(
        `--prefix ${JSON.stringify(prefix)}: a key prefix is 1 to 64 characters, without braces, "|" or whitespace`,
      );
    }
    const keysFile = stringValue(parsed.values["keys-file"]) ?? io.env.LANGGRAPH_REDIS_KEYS_FILE;
    const encryption = keysFile === undefined ? undefined : await readKeysFile(keysFile);
    const maxKeys = positiveInt(parsed.values["max-keys"], "max-keys", 100_000);
    const timeoutMs = positiveInt(parsed.values["timeout-ms"], "timeout-ms", 5000);
    const [{ connect }, { createContext }, { createRedisContext }, { namedError }] = await Promise.all([
      import("./connect.js"),
      import("./context.js"),
      import("../context.js"),
      import("../redis-call.js"),
    ]);
    const connection = await connect(url, timeoutMs, io.env.LANGGRAPH_REDIS_SENTINEL_PASSWORD);
    try {
      const ctx = createContext({
        client: connection.client,
        url,
        prefix,
        io,
        json: parsed.values.json === true,
        quiet: parsed.values.quiet === true,
        args: parsed.args,
        options: parsed.values,
        maxKeys,
        signal: options.signal,
        encryption,
      });
      // Every failure of a command goes through the library's one Redis error mapping (ACL denial, lost connection,
      // a key of the wrong type named), like the library's own calls.
      const redis = createRedisContext({ client: connection.client, keyPrefix: prefix, component: "langgraph-redis" });
      const site = { operation: `langgraph-redis ${parsed.command}`, write: parsed.command === "resume" };
      const result = await command.run(ctx).catch(async (error: unknown) => {
        throw await namedError(redis, error, site);
      });
      io.out(`${ctx.json ? toJson(result.data) : result.text}\n`);
      return result.code ?? EXIT.ok;
    } finally {
      await connection.close();
    }
  } catch (error) {
    const failure = describeFailure(error, url);
    io.err(`langgraph-redis: ${failure.message}\n`);
    return failure.code;
  }
}

function parse(argv: readonly string[]) {
  let result: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    result = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new InspectorUsageError((error as Error).message.replace(/\. To specify a positional.*$/s, ""), {
      cause: error,
    });
  }
  const [command, ...args] = result.positionals;
  return {
    command,
    args,
    values: result.values as Record<string, string | boolean | string[] | undefined>,
    help: result.values.help === true,
  };
}

/**
 * --keys-file: a JSON object of key id to base64 key, read into encryption options that also read plaintext values
 * (the inspector only reads). A bad file is a usage error that never shows a key.
 */
async function readKeysFile(path: string) {
  const [{ readFile }, { parseEncryptionOptions }] = await Promise.all([
    import("node:fs/promises"),
    import("../encryption/options.js"),
  ]);
  let keys: unknown;
  try {
    keys = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    const reason = error instanceof SyntaxError ? "it is not JSON" : (error as Error).message;
    throw new InspectorUsageError(`--keys-file ${JSON.stringify(path)} cannot be read: ${reason}`, { cause: error });
  }
  const ids = keys !== null && typeof keys === "object" && !Array.isArray(keys) ? Object.keys(keys) : [];
  if (ids.length === 0) {
    throw new InspectorUsageError(
      `--keys-file ${JSON.stringify(path)}: expected a JSON object of key id to base64 key, {"2026-11": "..."}`,
    );
  }
  try {
    return parseEncryptionOptions({ keys, currentKeyId: ids[0], requireEncrypted: false }, "--keys-file");
  } catch (error) {
    throw new InspectorUsageError(`--keys-file ${JSON.stringify(path)}: ${(error as Error).message}`, { cause: error });
  }
}

function stringValue(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function positiveInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new InspectorUsageError(`--${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

import type { Redis } from "ioredis";
import { z } from "zod";
import { isCluster, type RedisClient, serverVersion } from "./client.js";
import { DurabilityError, UnsupportedServerError } from "./errors.js";
import { log } from "./log.js";
import { durationMsSchema, parseOptions } from "./options.js";
import { toConnectionError, toNamedRedisError } from "./redis-errors.js";

/**
 * Durability of acknowledged writes, for users who need "acknowledged means kept":
 * - a start-up check that reads each server's persistence settings (CONFIG GET appendonly / appendfsync / save /
 *   maxmemory-policy) and refuses, or warns, when an acknowledged write could be lost on a restart or evicted;
 * - an optional wait after each write until replicas have it (WAIT) and until it is fsynced to the append-only
 *   file (WAITAOF, Redis 7.2 and newer).
 * docs/operations.md explains the settings and trade-offs.
 */

/** What the start-up check requires of every server it can read. */
export type PersistenceLevel = "fsync-always" | "aof" | "persisted";

export interface DurabilityWarning {
  /** `problem`: settings weaker than required; `unreadable`: CONFIG GET was refused; `unsupported`: a wait was skipped. */
  readonly kind: "problem" | "unreadable" | "unsupported";
  /** `host:port` of the server concerned, when it is about one server. */
  readonly node: string | undefined;
  readonly message: string;
}

const callbackSchema = z.custom<(warning: DurabilityWarning) => void>((value) => typeof value === "function", {
  message: "a function",
});

export const durabilityOptionsSchema = z
  .object({
    /** Start-up check of the persistence settings: "off", "warn" (onWarning and the debug log) or "refuse"
     * (DurabilityError before the first write). */
    check: z.enum(["off", "warn", "refuse"]).default("off"),
    /** What the check requires: "fsync-always" (AOF, appendfsync always), "aof" (AOF with appendfsync always or
     * everysec) or "persisted" (AOF, or RDB snapshots). */
    require: z.enum(["fsync-always", "aof", "persisted"]).default("fsync-always"),
    /** After each write, wait (WAIT) until this many replicas acknowledged it. 0: do not wait. */
    waitForReplicas: z.number().int().min(0).max(1000).default(0),
    /** After each write, wait (WAITAOF) until it is fsynced to the AOF of the master (and of `waitForReplicas`
     * replicas). Needs Redis 7.2 or newer. */
    waitForAof: z.boolean().default(false),
    /** How long one WAIT / WAITAOF may block, in ms. A write not confirmed in time raises DurabilityError. */
    waitTimeoutMs: durationMsSchema.default(1000),
    /** When the server has no WAITAOF: "throw" UnsupportedServerError before anything is written, or "skip" the
     * AOF wait (with a warning) and keep the replica wait. */
    onUnsupported: z.enum(["throw", "skip"]).default("throw"),
    /** Receives each warning of the check and of skipped waits; they also go to the debug log. */
    onWarning: callbackSchema.optional(),
  })
  .strict();

export type DurabilityOptions = z.input<typeof durabilityOptionsSchema>;
export type ResolvedDurabilityOptions = z.output<typeof durabilityOptionsSchema>;

/** One server's persistence settings, as far as CONFIG GET could read them. */
export interface NodePersistence {
  readonly node: string;
  readonly readable: boolean;
  readonly appendonly: boolean | undefined;
  readonly appendfsync: string | undefined;
  /** The `save` rules ("" when RDB snapshots are off). */
  readonly save: string | undefined;
  readonly maxmemoryPolicy: string | undefined;
  /** Why the settings could not be read (for example an ACL that denies CONFIG). */
  readonly error: string | undefined;
  /** Ways acknowledged writes could be lost on a restart of this server, given `require`. Empty when it complies. */
  readonly problems: readonly string[];
}

export interface DurabilityReport {
  readonly require: PersistenceLevel;
  readonly nodes: readonly NodePersistence[];
  /** Every server could be read and none has a problem. */
  readonly ok: boolean;
  /** At least one server could not be read: the check could not confirm it. */
  readonly unreadable: boolean;
}

function nodeName(node: Redis): string {
  return `${node.options.host ?? "127.0.0.1"}:${node.options.port ?? 6379}`;
}

/** The servers to check: the standalone server, or every master and replica the cluster client knows. */
async function serversOf(client: RedisClient): Promise<Redis[]> {
  if (!isCluster(client)) return [client];
  if (client.nodes("all").length === 0) await client.ping();
  return client.nodes("all");
}

async function configValue(node: Redis, name: string): Promise<string | undefined> {
  const reply = (await node.call("CONFIG", ["GET", name])) as string[];
  return reply[1];
}

/** Ways an acknowledged write could be lost on a restart, for the given settings and requirement. */
export function persistenceProblems(
  settings: { appendonly: boolean; appendfsync: string; save: string; maxmemoryPolicy: string },
  require: PersistenceLevel,
): string[] {
  const eviction = settings.maxmemoryPolicy.startsWith("allkeys-")
    ? [`maxmemory-policy ${settings.maxmemoryPolicy}: when memory is full Redis deletes keys, checkpoints included`]
    : [];
  return [...eviction, ...restartProblems(settings, require)];
}

function restartProblems(
  settings: { appendonly: boolean; appendfsync: string; save: string },
  require: PersistenceLevel,
): string[] {
  const snapshots = settings.save.trim() !== "";
  if (!settings.appendonly) {
    if (!snapshots) return ['persistence is off (appendonly no, save ""): a restart loses every write'];
    if (require === "persisted") return [];
    return [
      `only RDB snapshots (appendonly no, save "${settings.save}"): a restart loses every write since the last snapshot`,
    ];
  }
  if (settings.appendfsync === "always" || require === "persisted") return [];
  if (settings.appendfsync === "everysec") {
    if (require === "aof") return [];
    return ["appendfsync everysec: a machine crash or power loss can lose about the last second of writes"];
  }
  return [
    `appendfsync ${settings.appendfsync}: the operating system decides when to flush, so a machine crash can lose ` +
      "the last tens of seconds of writes",
  ];
}

async function readNode(node: Redis, require: PersistenceLevel): Promise<NodePersistence> {
  const name = nodeName(node);
  try {
    const [appendonly = "", appendfsync = "", save = "", maxmemoryPolicy = ""] = await Promise.all(
      ["appendonly", "appendfsync", "save", "maxmemory-policy"].map(
        async (setting) => (await configValue(node, setting)) ?? "",
      ),
    );
    const settings = { appendonly: appendonly === "yes", appendfsync, save, maxmemoryPolicy };
    return {
      node: name,
      readable: true,
      ...settings,
      error: undefined,
      problems: persistenceProblems(settings, require),
    };
  } catch (error) {
    const mapped = toConnectionError(error, "checkDurability", false);
    if (mapped !== error) throw mapped;
    const reason = error instanceof Error ? error.message : String(error);
    return {
      node: name,
      readable: false,
      appendonly: undefined,
      appendfsync: undefined,
      save: undefined,
      maxmemoryPolicy: undefined,
      error: reason,
      problems: [],
    };
  }
}

function warn(options: ResolvedDurabilityOptions, warning: DurabilityWarning): void {
  log("durability warning (%s) %s: %s", warning.kind, warning.node ?? "-", warning.message);
  options.onWarning?.(warning);
}

/**
 * Reads the persistence settings of every server behind `client` and compares them with `options.require`.
 * With `check: "refuse"` it throws DurabilityError when a server could lose acknowledged writes on a restart; with
 * "warn" (or "off") it reports through `onWarning` and the debug log. A server whose CONFIG GET is refused (ACL,
 * managed service) is reported as unreadable and never fails the check: the caller is told it could not be verified.
 */
export async function checkDurability(client: RedisClient, options: DurabilityOptions = {}): Promise<DurabilityReport> {
  const resolved = parseOptions(durabilityOptionsSchema, options, "durability");
  const nodes = await Promise.all((await serversOf(client)).map((node) => readNode(node, resolved.require)));
  const report: DurabilityReport = {
    require: resolved.require,
    nodes,
    ok: nodes.every((n) => n.readable && n.problems.length === 0),
    unreadable: nodes.some((n) => !n.readable),
  };
  for (const node of nodes.filter((n) => !n.readable)) {
    warn(resolved, {
      kind: "unreadable",
      node: node.node,
      message: `could not read the persistence settings (${node.error}); durability on this server is not verified`,
    });
  }
  const problems = nodes.flatMap((n) => n.problems.map((problem) => ({ node: n.node, problem })));
  if (problems.length > 0 && resolved.check === "refuse") {
    throw new DurabilityError(
      `Redis cannot keep acknowledged writes across a restart as required (${resolved.require}): ` +
        problems.map((p) => `${p.node}: ${p.problem}`).join("; "),
    );
  }
  for (const { node, problem } of problems) warn(resolved, { kind: "problem", node, message: problem });
  return report;
}

/** Whether the server knows WAITAOF: COMMAND INFO first, the version (7.2+) when COMMAND is not permitted. */
async function hasWaitAof(client: RedisClient): Promise<boolean> {
  const node = (await serversOf(client))[0] ?? client;
  try {
    const [info] = (await (node as Redis).call("COMMAND", ["INFO", "WAITAOF"])) as unknown[];
    return info !== null && info !== undefined;
  } catch (error) {
    const mapped = toConnectionError(error, "durability", false);
    if (mapped !== error) throw mapped;
  }
  try {
    const [major, minor] = await serverVersion(client);
    return major > 7 || (major === 7 && minor >= 2);
  } catch {
    return true; // cannot tell: try it, and report an "unknown command" reply when it comes
  }
}

/**
 * Applies the durability options around one client's writes: `ready()` once before the first write (start-up check,
 * WAITAOF detection), `afterWrite(key)` after each acknowledged write. The owners (RedisSaver, RedisStore) call them.
 */
export class WriteDurability {
  readonly #client: RedisClient;
  readonly #options: ResolvedDurabilityOptions;
  #readying: Promise<void> | undefined;
  #readied = false;
  #useWaitAof: boolean;

  constructor(client: RedisClient, options: DurabilityOptions | ResolvedDurabilityOptions | undefined, owner: string) {
    this.#client = client;
    this.#options = parseOptions(durabilityOptionsSchema, options ?? {}, `${owner}.durability`);
    this.#useWaitAof = this.#options.waitForAof;
  }

  /** True when writes wait for replicas or the AOF. */
  get waits(): boolean {
    return this.#options.waitForReplicas > 0 || this.#useWaitAof;
  }

  /** True once ready() has nothing left to do (writes then skip waiting for it). */
  get isReady(): boolean {
    return this.#readied || (this.#options.check === "off" && !this.#options.waitForAof);
  }

  /** Runs the start-up check and WAITAOF detection once (again after a failure). */
  ready(): Promise<void> {
    if (this.#options.check === "off" && !this.#options.waitForAof) return Promise.resolve();
    this.#readying ??= this.#prepare().then(
      () => {
        this.#readied = true;
      },
      (error: unknown) => {
        this.#readying = undefined;
        throw error;
      },
    );
    return this.#readying;
  }

  async #prepare(): Promise<void> {
    if (this.#options.check !== "off") await checkDurability(this.#client, this.#options);
    if (this.#options.waitForAof && !(await hasWaitAof(this.#client))) this.#unsupported();
    if (this.#useWaitAof) await this.#requireAof();
  }

  /** WAITAOF has nothing to wait for on a server without an AOF: refuse before the first write, where readable. */
  async #requireAof(): Promise<void> {
    const nodes = await Promise.all((await serversOf(this.#client)).map((node) => readNode(node, "persisted")));
    const without = nodes.filter((n) => n.readable && n.appendonly === false).map((n) => n.node);
    if (without.length > 0) {
      throw new DurabilityError(
        `waitForAof needs appendonly yes, but ${without.join(", ")} ${without.length > 1 ? "have" : "has"} no AOF; ` +
          "nothing was written",
      );
    }
  }

  #unsupported(): void {
    const message = "waitForAof needs WAITAOF, which this server lacks (Redis 7.2 or newer has it)";
    if (this.#options.onUnsupported === "throw") {
      throw new UnsupportedServerError(`${message}; set durability.onUnsupported to "skip" to write without it`);
    }
    this.#useWaitAof = false;
    warn(this.#options, { kind: "unsupported", node: undefined, message: `${message}; skipping the AOF wait` });
  }

  /**
   * Waits until the write that just touched `key` is on `waitForReplicas` replicas and, with waitForAof, fsynced to
   * the AOF. WAIT covers every earlier write of the connection, so on a cluster it goes, in a pipeline with a
   * harmless command on `key`, to the connection of the master that owns the key's slot.
   */
  async afterWrite(key: string, what: string): Promise<void> {
    if (!this.waits) return;
    const { waitForReplicas, waitTimeoutMs } = this.#options;
    const command = this.#useWaitAof ? "WAITAOF" : "WAIT";
    const args = this.#useWaitAof ? [1, waitForReplicas, waitTimeoutMs] : [waitForReplicas, waitTimeoutMs];
    let reply: unknown;
    try {
      reply = await this.#send(key, command, args);
    } catch (error) {
      const mapped = toNamedRedisError(error, `${what} (${command})`, false);
      if (mapped !== error) throw mapped;
      const message = error instanceof Error ? error.message : String(error);
      if (/unknown command/i.test(message)) {
        throw new UnsupportedServerError(`${command} is not available on this server: ${message}`, { cause: error });
      }
      throw new DurabilityError(`${what} was written but ${command} failed: ${message}`, { cause: error });
    }
    const [local, replicas] = this.#useWaitAof ? (reply as [number, number]) : [1, Number(reply)];
    if (local < 1 || replicas < waitForReplicas) {
      const missing =
        local < 1
          ? "the master's AOF fsync was not confirmed"
          : `${replicas} of ${waitForReplicas} replicas acknowledged it`;
      throw new DurabilityError(
        `${what} was written on the master, but within ${waitTimeoutMs} ms ${missing} (${command}); ` +
          "it could be lost if the master fails now",
      );
    }
  }

  /**
   * afterWrite for a batch of writes that touched `keys`: one wait per server on a standalone connection, one per
   * hash tag (slot) on a cluster, in parallel.
   */
  async afterWrites(keys: readonly string[], what: string): Promise<void> {
    if (!this.waits || keys.length === 0) return;
    if (!isCluster(this.#client)) return this.afterWrite(keys[0] as string, what);
    const bySlot = new Map<string, string>();
    for (const key of keys) bySlot.set(/\{([^}]+)\}/.exec(key)?.[1] ?? key, key);
    await Promise.all([...bySlot.values()].map((key) => this.afterWrite(key, what)));
  }

  async #send(key: string, command: string, args: number[]): Promise<unknown> {
    if (!isCluster(this.#client)) return this.#client.call(command, args);
    const results = await this.#client.pipeline().exists(key).call(command, args).exec();
    const [, [error, reply] = [null, null]] = results ?? [];
    if (error) throw error;
    return reply;
  }
}

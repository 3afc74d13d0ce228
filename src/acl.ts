import { z } from "zod";
import { keyPrefixStart } from "./keys.js";
import { keyPrefixSchema, parseOptions } from "./options.js";

/**
 * The Redis ACL a tenant of the library needs: its keys (everything under its key prefix) and the commands the
 * library, its Lua scripts and ioredis send. Redis checks ACL permissions for commands a script runs too, so the
 * commands the scripts call are listed as well. docs/security.md explains each group; the security tests run every
 * public operation under exactly these rules, on a standalone server and on a cluster.
 */
export const ACL_COMMANDS = {
  /** Every deployment: scripts (EVALSHA, EVAL on a script cache miss) and the commands inside them, the reads
   * the library sends directly, the lock acquire (SET NX PX), the server version check and ioredis' ready check
   * (INFO), TYPE (to name the key when one holds the wrong type, and to tell a thread's checkpoint index a LIST from
   * a ZSET), and the LIST commands of that index (include checkpointIndex). */
  required: [
    "evalsha",
    "eval",
    "info",
    "get",
    "set",
    "del",
    "unlink",
    "exists",
    "type",
    "incr",
    "pexpire",
    "pexpireat",
    "persist",
    "time",
    "hget",
    "hmget",
    "hgetall",
    "hset",
    "hsetnx",
    "hdel",
    "hexists",
    "hlen",
    "hstrlen",
    "hkeys",
    "hscan",
    "pttl",
    "smembers",
    "srem",
    "zadd",
    "zrem",
    "zcard",
    "zcount",
    "zscore",
    "zrange",
    "zrevrange",
    "zrangebylex",
    "zrangebyscore",
    "zremrangebyrank",
    "zremrangebyscore",
    "llen",
    "lindex",
    "lrange",
    "rpush",
    "linsert",
    "lrem",
    "lset",
  ],
  /** Redis Cluster: ioredis reads the slot map and the cluster state, names its connections (CLIENT SETNAME) and
   * follows ASK redirects while slots move; the durability check PINGs a cluster client to learn its nodes. */
  cluster: ["cluster|slots", "cluster|info", "client|setname", "asking", "ping"],
  /** The `durability` option: the start-up check reads the settings (without `config|get` it reports them as not
   * verified), and the waits after each write. Add `waitaof` on Redis 7.2 or newer when using `waitForAof`. */
  durability: ["config|get", "wait", "command|info"],
  /** The `audit` option (docs/audit.md): writers append to the outbox streams (XADD inside the scripts) and register
   * them (SADD); the audit sink reads the registry and drains the streams through its consumer group. */
  audit: [
    "xadd",
    "sadd",
    "smembers",
    "scard",
    "xgroup|create",
    "xreadgroup",
    "xautoclaim",
    "xack",
    "xdel",
    "xlen",
    "xrange",
    "xrevrange",
    "multi",
    "exec",
  ],
  /** The `langgraph-redis` inspector CLI: a bounded SCAN of the prefix, sizes (MEMORY USAGE, HSTRLEN), lock time
   * left (PTTL), its connection check (PING), and the audit events still in the outbox streams (XREVRANGE) that
   * `view` draws as lock and crash history. */
  inspector: ["scan", "memory|usage", "hstrlen", "pttl", "ping", "xrevrange"],
} as const;

const aclRulesOptionsSchema = z
  .object({
    /** The key prefix the tenant's RedisSaver, RedisStore and guarded() use. */
    keyPrefix: keyPrefixSchema,
    /** Add the commands a Redis Cluster client needs. */
    cluster: z.boolean().default(false),
    /** Add the commands of the `durability` option (the check and WAIT). */
    durability: z.boolean().default(false),
    /** Add the commands of the audit trail (the `audit` option's outbox and the audit sink). */
    audit: z.boolean().default(false),
    /** Add the commands the inspector CLI (`langgraph-redis`) needs on top of the library's. */
    inspector: z.boolean().default(false),
    /** Add WAITAOF (Redis 7.2 or newer only: older servers refuse an ACL rule for a command they lack). */
    waitAof: z.boolean().default(false),
    /** Add CLIENT SETINFO, which ioredis sends on each connection to Redis 7.2 or newer (it ignores a refusal, but the
     * ACL log records one per connection). Redis 7.2 or newer only; or set ioredis' `disableClientInfo: true`. */
    clientInfo: z.boolean().default(false),
  })
  .strict();

export type AclRulesOptions = z.input<typeof aclRulesOptionsSchema>;

/** Escapes the glob characters of an ACL key pattern. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (ch) => `\\${ch}`);
}

/**
 * ACL SETUSER rules that confine a user to one key prefix and the commands the library needs, e.g.
 * `redis.call("ACL", ["SETUSER", "tenant-a", "on", ">password", ...aclRules({ keyPrefix: "tenant-a" })])`.
 * Keys: `<prefix>|*`, every key of RedisSaver, RedisStore, guarded() and the run leases, and no other tenant's: a
 * prefix cannot contain `|`, so the pattern of `pa` does not reach the keys of `pa:b` (nor the other way round).
 * No Pub/Sub channels.
 */
export function aclRules(options: AclRulesOptions = {}): string[] {
  const { keyPrefix, cluster, durability, audit, inspector, waitAof, clientInfo } = parseOptions(
    aclRulesOptionsSchema,
    options,
    "aclRules",
  );
  const commands: string[] = [
    ...ACL_COMMANDS.required,
    ...(cluster ? ACL_COMMANDS.cluster : []),
    ...(durability ? ACL_COMMANDS.durability : []),
    ...(audit ? ACL_COMMANDS.audit : []),
    ...(inspector ? ACL_COMMANDS.inspector : []),
    ...(waitAof ? ["waitaof"] : []),
    ...(clientInfo ? ["client|setinfo"] : []),
  ];
  return [
    "resetkeys",
    `~${globEscape(keyPrefixStart(keyPrefix))}*`,
    "resetchannels",
    "-@all",
    ...commands.map((c) => `+${c}`),
  ];
}

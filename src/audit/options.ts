import { z } from "zod";
import { clientSchema, durationMsSchema, keyPrefixSchema, parseOptions } from "../options.js";
import type { AuditPostgres } from "./postgres.js";

const postgresSchema = z.union([
  z.string().min(1),
  z.custom<AuditPostgres>(
    (value) =>
      value !== null && typeof value === "object" && typeof (value as { query?: unknown }).query === "function",
    { message: "a PostgreSQL connection string or a pg.Pool" },
  ),
]);

/** PostgreSQL schema holding the audit tables: a plain lower-case identifier. */
export const auditSchemaNameSchema = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, "a lower-case identifier (letters, digits, _)")
  .default("langgraph_redis");

export const auditSinkOptionsSchema = z
  .object({
    /** ioredis Redis or Cluster holding the outbox streams. The sink never closes it. */
    client: clientSchema,
    /** A pg.Pool (the sink never closes it) or a connection string (the sink opens a pool and closes it). */
    postgres: postgresSchema,
    /** Key prefix of the audited components whose streams this sink drains. */
    keyPrefix: keyPrefixSchema,
    /** PostgreSQL schema of the audit tables (created by the sink's migration). */
    schema: auditSchemaNameSchema,
    /** Redis consumer group: sinks sharing a group share the work; each event is delivered to one of them. */
    group: z.string().min(1).max(128).default("langgraph-redis-audit"),
    /** This sink's consumer name in the group. Default: host name and process id. */
    consumer: z.string().min(1).max(128).optional(),
    /** Most events in one INSERT (and read from one stream at a time). */
    batchSize: z.number().int().min(1).max(2000).default(500),
    /** Wait (ms) before polling a stream again that had nothing new; doubles while it stays idle. */
    pollIntervalMs: durationMsSchema.default(50),
    /** Longest wait (ms) between two polls of an idle stream: the worst added lag of a quiet stream. */
    idlePollMaxMs: durationMsSchema.default(500),
    /** Events delivered to a consumer that has not acknowledged them for this long (ms) are taken over: the
     * consumer crashed. Keep it well above the time one batch takes. */
    claimIdleMs: durationMsSchema.default(30_000),
    /** How often (ms) the registry of streams is checked for new streams (SCARD; the members only on a change). */
    discoverIntervalMs: durationMsSchema.default(200),
    /** Longest back-off (ms) between two attempts while PostgreSQL (or Redis) fails. */
    retryMaxMs: durationMsSchema.default(5000),
    /** Called with each failure (PostgreSQL down, Redis unreachable); the sink keeps retrying. */
    onError: z.custom<(error: Error) => void>((value) => typeof value === "function").optional(),
  })
  .strict();

export type AuditSinkOptions = z.input<typeof auditSinkOptionsSchema>;
export type ParsedAuditSinkOptions = z.output<typeof auditSinkOptionsSchema>;

export function parseAuditSinkOptions(input: unknown): ParsedAuditSinkOptions {
  return parseOptions(auditSinkOptionsSchema, input, "startAuditSink");
}

export const auditTrailOptionsSchema = z
  .object({
    /** A pg.Pool (not closed) or a connection string (a pool is opened for the query and closed). */
    postgres: postgresSchema,
    schema: auditSchemaNameSchema,
    /** Events of one checkpointer thread. */
    threadId: z.string().min(1).optional(),
    /** Events of one store item: its namespace and key (both required together). */
    namespace: z.array(z.string().min(1)).min(1).optional(),
    key: z.string().min(1).optional(),
    /** Events one agent caused. */
    agentId: z.string().min(1).optional(),
    /** Events of one guarded() lock name (acquired, released, lost, and the fenced writes made under it). */
    lockKey: z.string().min(1).optional(),
    /** Only events at or after this time. */
    from: z.date().optional(),
    /** Only events before this time. */
    to: z.date().optional(),
    /** Most events returned (default 100, at most 10,000). */
    limit: z.number().int().min(1).max(10_000).default(100),
    /** The `cursor` of the previous page: continue after its last event. */
    cursor: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((options, ctx) => {
    if ((options.namespace === undefined) !== (options.key === undefined)) {
      ctx.addIssue({ code: "custom", path: ["key"], message: "namespace and key together, or neither" });
    }
    const subjects = [options.threadId, options.key, options.agentId, options.lockKey].filter(
      (v) => v !== undefined,
    ).length;
    if (subjects !== 1) {
      ctx.addIssue({
        code: "custom",
        path: ["threadId"],
        message: "exactly one of threadId, namespace + key, agentId, lockKey",
      });
    }
  });

export type AuditTrailOptions = z.input<typeof auditTrailOptionsSchema>;

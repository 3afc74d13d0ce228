/**
 * auditTrail(): one page of the audit events of a thread, a store item or an agent, oldest first, read from
 * PostgreSQL. Pages are keyset-paginated: `cursor` names the last event of the previous page, so pages neither
 * skip nor repeat events while the sink keeps inserting.
 */
import { AuditError } from "../errors.js";
import { parseOptions } from "../options.js";
import { type AuditTrailOptions, auditTrailOptionsSchema } from "./options.js";
import { type AuditPostgres, openPostgres, schemaName } from "./postgres.js";

/** One audit event as stored. Fields the event does not concern are undefined. */
export interface AuditEvent {
  /** Unique id: the outbox stream key and the stream entry id. */
  readonly id: string;
  /** checkpoint, writes, store.put, store.delete, store.fenced, lock.acquired, lock.released, lock.lost,
   * lease.taken, lease.lost, lease.claimed, run.resumed, prune, copy, deleteForRuns (docs/audit.md). */
  readonly kind: string;
  /** When the write happened (Redis server time). */
  readonly at: Date;
  readonly keyPrefix: string;
  readonly threadId: string | undefined;
  readonly checkpointNs: string | undefined;
  readonly checkpointId: string | undefined;
  readonly namespace: string[] | undefined;
  readonly key: string | undefined;
  readonly agentId: string | undefined;
  readonly runId: string | undefined;
  readonly lockKey: string | undefined;
  readonly fenceToken: number | undefined;
  readonly version: number | undefined;
  /** Everything the event recorded (the fields above included, and e.g. channels, value hash, step, source). */
  readonly detail: Record<string, unknown>;
}

export interface AuditTrailPage {
  readonly events: AuditEvent[];
  /** Pass as `cursor` for the next page; undefined when this page is the last one so far. */
  readonly cursor: string | undefined;
}

type Position = [atMs: string, entryMs: string, entrySeq: string, eventId: string];

function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify(position), "utf8").toString("base64url");
}

function decodeCursor(cursor: string): Position {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (
      Array.isArray(parsed) &&
      parsed.length === 4 &&
      parsed.slice(0, 3).every((part) => typeof part === "string" && /^\d+$/.test(part)) &&
      typeof parsed[3] === "string"
    ) {
      return parsed as Position;
    }
  } catch {
    // reported below
  }
  throw new AuditError(`auditTrail: cursor ${JSON.stringify(cursor.slice(0, 40))} is not one auditTrail returned`);
}

const optional = <T>(value: unknown, as: (v: NonNullable<unknown>) => T): T | undefined =>
  value === null || value === undefined ? undefined : as(value);

export async function auditTrail(input: AuditTrailOptions): Promise<AuditTrailPage> {
  const options = parseOptions(auditTrailOptionsSchema, input, "auditTrail");
  const where: string[] = [];
  const values: unknown[] = [];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  if (options.threadId !== undefined) where.push(`thread_id = ${param(options.threadId)}`);
  if (options.key !== undefined) {
    where.push(`item_key = ${param(options.key)}`, `namespace = ${param(options.namespace)}::text[]`);
  }
  if (options.agentId !== undefined) where.push(`agent_id = ${param(options.agentId)}`);
  if (options.lockKey !== undefined) where.push(`lock_key = ${param(options.lockKey)}`);
  if (options.from) where.push(`at_ms >= ${param(options.from.getTime())}`);
  if (options.to) where.push(`at_ms < ${param(options.to.getTime())}`);
  if (options.cursor) {
    const [atMs, entryMs, entrySeq, eventId] = decodeCursor(options.cursor);
    where.push(
      `(at_ms, entry_ms, entry_seq, event_id) > (${param(atMs)}::bigint, ${param(entryMs)}::bigint, ` +
        `${param(entrySeq)}::bigint, ${param(eventId)})`,
    );
  }
  const sql = `SELECT event_id, kind, at_ms, entry_ms, entry_seq, key_prefix, thread_id, checkpoint_ns, checkpoint_id,
      namespace, item_key, agent_id, run_id, lock_key, fence_token, version, detail
    FROM ${schemaName(options.schema)}.audit_events
    WHERE ${where.join(" AND ")}
    ORDER BY at_ms, entry_ms, entry_seq, event_id
    LIMIT ${param(options.limit + 1)}`;

  const owned = typeof options.postgres === "string" ? await openPostgres(options.postgres) : undefined;
  const postgres: AuditPostgres = owned ?? (options.postgres as AuditPostgres);
  let rows: Record<string, unknown>[];
  try {
    rows = (await postgres.query(sql, values)).rows;
  } catch (error) {
    throw new AuditError(`auditTrail: the query failed: ${(error as Error).message}`, { cause: error });
  } finally {
    await owned?.end().catch(() => undefined);
  }
  const more = rows.length > options.limit;
  const page = more ? rows.slice(0, options.limit) : rows;
  const events = page.map(
    (row): AuditEvent => ({
      id: String(row.event_id),
      kind: String(row.kind),
      at: new Date(Number(row.at_ms)),
      keyPrefix: String(row.key_prefix),
      threadId: optional(row.thread_id, String),
      checkpointNs: optional(row.checkpoint_ns, String),
      checkpointId: optional(row.checkpoint_id, String),
      namespace: optional(row.namespace, (v) => (v as unknown[]).map(String)),
      key: optional(row.item_key, String),
      agentId: optional(row.agent_id, String),
      runId: optional(row.run_id, String),
      lockKey: optional(row.lock_key, String),
      fenceToken: optional(row.fence_token, Number),
      version: optional(row.version, Number),
      detail: (row.detail ?? {}) as Record<string, unknown>,
    }),
  );
  const last = page.at(-1);
  return {
    events,
    cursor:
      more && last
        ? encodeCursor([String(last.at_ms), String(last.entry_ms), String(last.entry_seq), String(last.event_id)])
        : undefined,
  };
}

/**
 * From an outbox stream entry to a row of audit_events, and the batched insert: one statement per batch, idempotent
 * on the event id (the stream key and the entry id), so a batch delivered twice (a sink killed after its insert
 * committed but before it acknowledged the entries) still leaves exactly one row per event.
 */
import { auditStreamPrefix } from "../keys.js";
import { type AuditPostgres, schemaName } from "./postgres.js";
import type { AuditEvent } from "./trail.js";

/** One entry as XREADGROUP / XAUTOCLAIM return it. */
export type StreamEntry = [id: string, fields: string[]];

const COLUMNS = [
  "event_id",
  "at_ms",
  "at",
  "entry_ms",
  "entry_seq",
  "kind",
  "key_prefix",
  "thread_id",
  "checkpoint_ns",
  "checkpoint_id",
  "namespace",
  "item_key",
  "agent_id",
  "run_id",
  "lock_key",
  "fence_token",
  "version",
  "detail",
] as const;

const text = (value: unknown) => (typeof value === "string" ? value : undefined);
const integer = (value: unknown) => {
  const n = typeof value === "string" && value !== "" ? Number(value) : value;
  return typeof n === "number" && Number.isSafeInteger(n) ? n : undefined;
};

/** The row values of one entry, in COLUMNS order. An entry the sink cannot parse is kept, as kind "unreadable". */
export function entryRow(stream: string, entry: StreamEntry): unknown[] {
  const [id, flat] = entry;
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
  const { kind, atMs, ctx, ...extra } = fields;
  let context: Record<string, unknown> = {};
  let unreadable = false;
  try {
    const parsed: unknown = JSON.parse(ctx ?? "{}");
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) context = parsed as Record<string, unknown>;
    else unreadable = true;
  } catch {
    unreadable = true;
  }
  const [entryMs = "0", entrySeq = "0"] = id.split("-");
  const at = integer(atMs) ?? Number(entryMs);
  const detail: Record<string, unknown> = { ...context };
  for (const [field, value] of Object.entries(extra)) detail[field] = integer(value) ?? value;
  if (unreadable) detail.raw = fields;
  const namespace = Array.isArray(context.namespace) ? context.namespace.map(String) : undefined;
  return [
    `${stream}/${id}`,
    at,
    new Date(at).toISOString(),
    Number(entryMs),
    Number(entrySeq),
    unreadable ? "unreadable" : (kind ?? "unreadable"),
    auditStreamPrefix(stream),
    text(context.threadId),
    text(context.checkpointNs),
    text(context.checkpointId),
    namespace,
    text(context.key),
    text(context.agent),
    text(context.runId),
    text(context.lockKey),
    integer(extra.token) ?? integer(context.fenceToken),
    integer(extra.version),
    JSON.stringify(detail),
  ];
}

/** Inserts the rows in one statement; returns how many were new (the rest were already there). */
export async function insertRows(postgres: AuditPostgres, schema: string, rows: readonly unknown[][]): Promise<number> {
  if (rows.length === 0) return 0;
  const values: unknown[] = [];
  const tuples = rows.map((row) => {
    const placeholders = row.map((value) => {
      values.push(value);
      return `$${values.length}`;
    });
    return `(${placeholders.join(", ")})`;
  });
  const result = await postgres.query(
    `INSERT INTO ${schemaName(schema)}.audit_events (${COLUMNS.join(", ")}) VALUES ${tuples.join(", ")}
     ON CONFLICT (event_id) DO NOTHING`,
    values,
  );
  return result.rowCount ?? 0;
}

/** One outbox entry as an AuditEvent, parsed exactly as the sink parses it into a row (the same id, too). */
export function entryEvent(stream: string, entry: StreamEntry): AuditEvent {
  const row = entryRow(stream, entry);
  const column = (name: (typeof COLUMNS)[number]) => row[COLUMNS.indexOf(name)];
  const textOf = (name: (typeof COLUMNS)[number]) => {
    const value = column(name);
    return value === undefined ? undefined : String(value);
  };
  const numberOf = (name: (typeof COLUMNS)[number]) => {
    const value = column(name);
    return value === undefined ? undefined : Number(value);
  };
  return {
    id: String(column("event_id")),
    kind: String(column("kind")),
    at: new Date(Number(column("at_ms"))),
    keyPrefix: String(column("key_prefix")),
    threadId: textOf("thread_id"),
    checkpointNs: textOf("checkpoint_ns"),
    checkpointId: textOf("checkpoint_id"),
    namespace: column("namespace") as string[] | undefined,
    key: textOf("item_key"),
    agentId: textOf("agent_id"),
    runId: textOf("run_id"),
    lockKey: textOf("lock_key"),
    fenceToken: numberOf("fence_token"),
    version: numberOf("version"),
    detail: JSON.parse(String(column("detail"))) as Record<string, unknown>,
  };
}

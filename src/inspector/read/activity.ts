/**
 * Lock holds and waits, crashes and resumes of the drawn threads over time, from the audit trail: the events still in
 * the outbox streams (always read when audit is on), and with --postgres the ones a sink already moved to
 * PostgreSQL (auditTrail). Without audit nothing of this history exists in Redis: the page then shows only what
 * Redis holds now (locks, leases) and says that history needs `audit`.
 */
import { byTime, readOutboxEvents } from "../../audit/read-outbox.js";
import type { AuditEvent } from "../../audit/trail.js";
import type { CommandContext } from "../context.js";

/** One hold of a guarded() lock: from lock.acquired to lock.released or lock.lost (matched by fencing token). */
export interface LockHold {
  readonly lock: string;
  /** The fencing token of this hold (tokens of one lock increase in the order it was held). */
  readonly token: number | undefined;
  /** Who held it: the audit agentId, else the graph node that ran under it. */
  readonly holder: string;
  readonly threadId: string | undefined;
  readonly node: string | undefined;
  readonly acquiredAtMs: number;
  /** When the holder started waiting for the lock (someone else had it); undefined when it got it at once. */
  readonly waitFromMs: number | undefined;
  readonly endAtMs: number | undefined;
  /** released; lost (the holder found it gone); held (still held now); open (no release recorded: the holder's
   * process died, or the release happened outside what was read). */
  readonly end: "released" | "lost" | "held" | "open";
}

/** A mark on a thread's lane. */
export interface RunMark {
  /** crash: a recoverer found the run's lease expired and claimed it; resume: the run went on under a new lease;
   * lease-lost: the running process lost its lease and aborted the run; prune, copy, deleteForRuns: history was
   * removed from the thread (prune, the retention option, deleteForRuns) or the thread was written as a copy. */
  readonly kind: "crash" | "resume" | "lease-lost" | "prune" | "copy" | "deleteForRuns";
  readonly threadId: string;
  readonly checkpointNs: string | undefined;
  readonly atMs: number;
  /** The recoverer that claimed (crash), the process that resumed (resume), the holder that lost (lease-lost). */
  readonly by: string | undefined;
  /** crash: the holder whose lease expired, when its lease.taken was read. */
  readonly crashedHolder: string | undefined;
  /** prune, copy, deleteForRuns: what was removed or copied, in words ("4 checkpoints removed (keepLast 1)"). */
  readonly detail?: string | undefined;
}

export interface ViewActivity {
  /** "audit": drawn from audit events; "none": audit is off under this prefix (no outbox stream, no --postgres). */
  readonly source: "audit" | "none";
  /** Outbox streams registered under the prefix. */
  readonly outboxStreams: number;
  /** Events read from the outbox streams, and from PostgreSQL (undefined without --postgres). */
  readonly outboxEvents: number;
  readonly postgresEvents: number | undefined;
  /** A bound was reached: older events were not read. */
  readonly truncated: boolean;
  readonly holds: readonly LockHold[];
  readonly marks: readonly RunMark[];
}

export interface HistoryOptions {
  /** Most events read from each outbox stream (newest first). */
  readonly maxPerStream: number;
  /** A PostgreSQL connection string: also read the events an audit sink delivered there. */
  readonly postgres: string | undefined;
  readonly schema: string;
  /** Now, on the server clock (holds still held end here). */
  readonly nowMs: number;
  /** Locks held now, by name, with their fence counter (the token of the current hold). */
  readonly heldNow: ReadonlyMap<string, number>;
}

const LOCK_KINDS = new Set(["lock.acquired", "lock.released", "lock.lost"]);
/** The thread operations' events (docs/audit.md): drawn as marks on the thread's lane. */
const HISTORY_KINDS = ["prune", "copy", "deleteForRuns"] as const;
const RUN_KINDS = new Set(["lease.taken", "lease.claimed", "lease.lost", "run.resumed", ...HISTORY_KINDS]);
const POSTGRES_PAGE = 1000;

export async function readActivity(
  ctx: CommandContext,
  threadIds: readonly string[],
  /** The time span of the drawn threads' checkpoints: other threads' holds of the same locks are kept when they
   * overlap it. */
  window: { readonly fromMs: number; readonly toMs: number },
  options: HistoryOptions,
): Promise<ViewActivity> {
  const threads = new Set(threadIds);
  const outbox = await readOutboxEvents(ctx.client, ctx.prefix, { maxPerStream: options.maxPerStream });
  const events = new Map<string, AuditEvent>();
  for (const event of outbox.events) events.set(event.id, event);
  let truncated = outbox.truncated;
  let postgresEvents: number | undefined;
  if (options.postgres !== undefined) {
    const fromPostgres = await readPostgres(threadIds, events, window, options);
    postgresEvents = fromPostgres.count;
    truncated ||= fromPostgres.truncated;
  }
  const mine = [...events.values()].filter((e) => e.keyPrefix === ctx.prefix).sort(byTime);
  const lockNames = new Set(
    mine.filter((e) => LOCK_KINDS.has(e.kind) && threads.has(e.threadId ?? "")).map((e) => e.lockKey ?? ""),
  );
  lockNames.delete("");
  const holds = lockHolds(
    mine.filter((e) => LOCK_KINDS.has(e.kind) && lockNames.has(e.lockKey ?? "")),
    options,
  ).filter(
    (hold) =>
      threads.has(hold.threadId ?? "") ||
      ((hold.waitFromMs ?? hold.acquiredAtMs) <= window.toMs && (hold.endAtMs ?? options.nowMs) >= window.fromMs),
  );
  const marks = runMarks(mine.filter((e) => RUN_KINDS.has(e.kind) && threads.has(e.threadId ?? "")));
  return {
    source: outbox.streams > 0 || options.postgres !== undefined ? "audit" : "none",
    outboxStreams: outbox.streams,
    outboxEvents: outbox.events.length,
    postgresEvents,
    truncated,
    holds,
    marks,
  };
}

/** The drawn threads' events in PostgreSQL, then every event of the locks they took (in the window's span). */
async function readPostgres(
  threadIds: readonly string[],
  into: Map<string, AuditEvent>,
  window: { readonly fromMs: number; readonly toMs: number },
  options: HistoryOptions,
): Promise<{ count: number; truncated: boolean }> {
  const [{ auditTrail }, { openPostgres }] = await Promise.all([
    import("../../audit/trail.js"),
    import("../../audit/postgres.js"),
  ]);
  const postgres = await openPostgres(options.postgres as string);
  let count = 0;
  let truncated = false;
  const readAll = async (query: Record<string, unknown>) => {
    let cursor: string | undefined;
    let read = 0;
    do {
      const page = await auditTrail({
        postgres,
        schema: options.schema,
        ...query,
        limit: POSTGRES_PAGE,
        ...(cursor ? { cursor } : {}),
      });
      for (const event of page.events) into.set(event.id, event);
      read += page.events.length;
      cursor = page.cursor;
      if (cursor !== undefined && read >= options.maxPerStream) {
        truncated = true;
        break;
      }
    } while (cursor !== undefined);
    count += read;
  };
  try {
    for (const threadId of threadIds) await readAll({ threadId });
    const locks = new Set<string>();
    for (const event of into.values()) {
      if (LOCK_KINDS.has(event.kind) && event.lockKey && threadIds.includes(event.threadId ?? "")) {
        locks.add(event.lockKey);
      }
    }
    // Holds of the same locks by other threads, as far as they can overlap the drawn span (a hold that started
    // before it is found by its release inside it).
    const from = new Date(window.fromMs);
    const to = new Date(Math.max(window.toMs, options.nowMs) + 1);
    for (const lockKey of [...locks].sort()) await readAll({ lockKey, from, to });
  } finally {
    await postgres.end().catch(() => undefined);
  }
  return { count, truncated };
}

/** A hold as its first event tells it: the lock, its token, who held it (agent, else node) and where. */
function holdStart(event: AuditEvent, waitFromMs: number | undefined): Omit<LockHold, "endAtMs" | "end"> {
  const node = typeof event.detail.node === "string" ? event.detail.node : undefined;
  return {
    lock: event.lockKey as string,
    token: event.fenceToken,
    holder: event.agentId ?? node ?? "?",
    threadId: event.threadId,
    node,
    acquiredAtMs: event.at.getTime(),
    waitFromMs,
  };
}

/** Pairs each lock.acquired with the release or loss of the same lock and token. */
export function lockHolds(
  events: readonly AuditEvent[],
  options: Pick<HistoryOptions, "nowMs" | "heldNow">,
): LockHold[] {
  interface Open {
    hold: Omit<LockHold, "endAtMs" | "end">;
    endAtMs?: number;
    end?: "released" | "lost";
  }
  const holds: Open[] = [];
  const byToken = new Map<string, Open>();
  for (const event of events) {
    const lock = event.lockKey as string;
    const key = `${lock}\0${event.fenceToken ?? "?"}`;
    if (event.kind === "lock.acquired") {
      const waitedMs = typeof event.detail.waitedMs === "number" ? event.detail.waitedMs : 0;
      const atMs = event.at.getTime();
      const open: Open = { hold: holdStart(event, waitedMs > 0 ? atMs - waitedMs : undefined) };
      holds.push(open);
      byToken.set(key, open);
      continue;
    }
    const end = event.kind === "lock.released" ? "released" : "lost";
    const open =
      byToken.get(key) ??
      // A loss noticed before its fencing token was issued carries no token: the holder's newest hold of the lock.
      [...holds].reverse().find((h) => h.hold.lock === lock && h.hold.threadId === event.threadId && !h.end);
    if (open && !open.end) {
      open.end = end;
      open.endAtMs = event.at.getTime();
    } else if (!open) {
      // Its acquisition is older than what was read: a hold seen only by its end.
      holds.push({ hold: holdStart(event, undefined), end, endAtMs: event.at.getTime() });
    }
  }
  return holds.map(({ hold, end, endAtMs }): LockHold => {
    if (end !== undefined) return { ...hold, end, endAtMs };
    if (hold.token !== undefined && options.heldNow.get(hold.lock) === hold.token) {
      return { ...hold, end: "held", endAtMs: options.nowMs };
    }
    return { ...hold, end: "open", endAtMs: undefined };
  });
}

/** Crash marks (a recoverer claimed the run: its lease had expired), resume marks and lost leases. */
export function runMarks(events: readonly AuditEvent[]): RunMark[] {
  const holder = new Map<string, string>(); // run -> who holds its lease, as far as the events tell
  const marks: RunMark[] = [];
  for (const event of events) {
    const run = `${event.threadId}\0${event.checkpointNs ?? ""}`;
    const owner = typeof event.detail.owner === "string" ? event.detail.owner : event.agentId;
    const base = { threadId: event.threadId as string, checkpointNs: event.checkpointNs, atMs: event.at.getTime() };
    if (event.kind === "lease.taken") holder.set(run, owner ?? "?");
    else if (event.kind === "lease.claimed") {
      marks.push({ ...base, kind: "crash", by: owner, crashedHolder: holder.get(run) });
      holder.set(run, owner ?? "?");
    } else if (event.kind === "run.resumed") {
      marks.push({ ...base, kind: "resume", by: owner, crashedHolder: undefined });
      holder.set(run, owner ?? "?");
    } else if (event.kind === "lease.lost") {
      marks.push({ ...base, kind: "lease-lost", by: owner, crashedHolder: undefined });
    } else if ((HISTORY_KINDS as readonly string[]).includes(event.kind)) {
      const kind = event.kind as (typeof HISTORY_KINDS)[number];
      marks.push({ ...base, kind, by: event.agentId, crashedHolder: undefined, detail: historyDetail(event) });
    }
  }
  return marks;
}

/** What a prune, copy or deleteForRuns event says it did, in words. */
export function historyDetail(event: AuditEvent): string {
  const { detail } = event;
  const count = (field: string, noun: string) => {
    const n = typeof detail[field] === "number" ? (detail[field] as number) : 0;
    return `${n} ${noun}${n === 1 ? "" : "s"}`;
  };
  const counts = `${count("checkpoints", "checkpoint")}, ${count("writes", "pending write")}, ${count("blobs", "blob")}`;
  if (event.kind === "copy") {
    return `${counts} copied from thread ${JSON.stringify(String(detail.sourceThreadId ?? "?"))}`;
  }
  if (event.kind === "deleteForRuns") {
    const runs = Array.isArray(detail.runIds) ? detail.runIds.map(String).join(", ") : "?";
    return `${counts} removed for run${Array.isArray(detail.runIds) && detail.runIds.length === 1 ? "" : "s"} ${runs}${detail.rollback === true ? " (rollback)" : ""}`;
  }
  const how =
    detail.keepLast === 0
      ? "thread deleted"
      : `keepLast ${String(detail.keepLast)}${detail.by === "retention" ? ", retention option" : ""}`;
  return `${counts} removed (${how})`;
}

/**
 * startAuditSink(): drains the audit outbox streams into PostgreSQL through a Redis consumer group.
 *
 * - Streams are found in the registry the writers fill before their first event (no SCAN); each gets the group.
 * - Each stream is read with XREADGROUP (its own pending entries first, after a restart under the same consumer
 *   name), events are inserted in batches with ON CONFLICT (event_id) DO NOTHING, and only after the insert
 *   committed are they acknowledged and deleted from the stream (XACK + XDEL in one MULTI). The stream therefore
 *   only ever holds events not yet in PostgreSQL; nothing is trimmed before it is delivered.
 * - Entries another consumer took and left unacknowledged for claimIdleMs (it crashed) are taken over (XAUTOCLAIM).
 *   A batch delivered twice leaves one row per event: the event id is the stream key and the entry id.
 * - While PostgreSQL (or Redis) fails, the sink backs off (doubling up to retryMaxMs) and retries the same batch;
 *   the events stay pending in Redis, so stopping or crashing then loses nothing.
 */

import { hostname } from "node:os";
import { AuditError } from "../errors.js";
import { auditRegistryKey } from "../keys.js";
import { log } from "../log.js";
import { countEvent, recordDuration } from "../telemetry/index.js";
import { type AuditSinkOptions, parseAuditSinkOptions } from "./options.js";
import { type AuditPostgres, openPostgres, setupAuditTables } from "./postgres.js";
import { entryRow, insertRows, type StreamEntry } from "./rows.js";

export interface AuditSinkStats {
  /** Events inserted (new rows). */
  readonly delivered: number;
  /** Events that were already in PostgreSQL when delivered again (after a crash between insert and ack). */
  readonly duplicates: number;
  /** Events taken over from consumers that stopped acknowledging them. */
  readonly reclaimed: number;
  /** Outbox streams known to the sink. */
  readonly streams: number;
  /** Age (ms) of the oldest event read but not yet committed; 0 when the sink is caught up with what it read. */
  readonly lagMs: number;
  /** Delivery lag (ms from the write to the commit in PostgreSQL) of the last 10,000 events: median and p99. */
  readonly lagP50Ms: number;
  readonly lagP99Ms: number;
  /** The last insert (or migration) failed and the sink is backing off. */
  readonly postgresDown: boolean;
  readonly lastError: string | undefined;
}

export interface AuditSink {
  /** Resolves once the tables exist (the migration ran); rejects only if the sink is stopped first. */
  readonly ready: Promise<void>;
  stats(): AuditSinkStats;
  /** Events in the outbox streams not yet delivered and acknowledged (one XLEN per stream). */
  backlog(): Promise<number>;
  /** Resolves once every event appended before the call is in PostgreSQL; rejects after timeoutMs. */
  flush(timeoutMs?: number): Promise<void>;
  /** Stops after the batch in flight; undelivered events stay in Redis for the next sink. Closes only what it
   * opened (a pool made from a connection string). */
  stop(): Promise<void>;
}

interface StreamState {
  readonly key: string;
  /** Read this consumer's own pending entries (id "0") before new ones (">"). */
  readPending: boolean;
  idleMs: number;
  nextPollAt: number;
}

interface Read {
  readonly stream: string;
  readonly entry: StreamEntry;
}

const LAG_WINDOW = 10_000;
const READ_CONCURRENCY = 32;

export function startAuditSink(input: AuditSinkOptions): AuditSink {
  const options = parseAuditSinkOptions(input);
  const { client, group, batchSize, schema } = options;
  const consumer = options.consumer ?? `${hostname()}-${process.pid}`;
  const registry = auditRegistryKey(options.keyPrefix);
  const streams = new Map<string, StreamState>();
  const lags: number[] = [];
  let lagCursor = 0;
  let delivered = 0;
  let duplicates = 0;
  let reclaimed = 0;
  let oldestInFlightMs: number | undefined;
  let postgresDown = false;
  let lastError: string | undefined;
  let stopping = false;
  let wake: (() => void) | undefined;
  let nextDiscoverAt = 0;
  let nextClaimAt = 0;
  let postgres: AuditPostgres | undefined;
  let owned: { end(): Promise<void> } | undefined;

  const report = (error: unknown) => {
    const named = error instanceof Error ? error : new AuditError(String(error));
    lastError = named.message;
    log("audit sink: %s", named.message);
    try {
      options.onError?.(named);
    } catch {
      // a throwing callback must not stop the sink
    }
  };

  /** Waits `ms`, or less when stop() is called. */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopping) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  /** Runs `attempt` until it succeeds, backing off while it fails; undefined when stopped first. */
  async function retrying<T>(attempt: () => Promise<T>, onFailure?: () => void): Promise<T | undefined> {
    let delayMs = 100;
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        report(error);
        onFailure?.();
        if (stopping) return undefined;
        await pause(delayMs);
        if (stopping) return undefined;
        delayMs = Math.min(delayMs * 2, options.retryMaxMs);
      }
    }
  }

  let registered = -1;
  async function discover(): Promise<void> {
    // Streams are only ever added: an unchanged count (SCARD, O(1)) means nothing new to read in.
    const count = await client.scard(registry);
    if (count === registered) return;
    const keys = await client.smembers(registry);
    for (const key of keys) {
      if (streams.has(key)) continue;
      try {
        await client.xgroup("CREATE", key, group, "0", "MKSTREAM");
      } catch (error) {
        if (!String((error as Error).message).includes("BUSYGROUP")) throw error;
      }
      streams.set(key, { key, readPending: true, idleMs: 0, nextPollAt: 0 });
    }
    registered = count;
  }

  async function readStream(state: StreamState): Promise<Read[]> {
    const reply = (await client.xreadgroup(
      "GROUP",
      group,
      consumer,
      "COUNT",
      batchSize,
      "STREAMS",
      state.key,
      state.readPending ? "0" : ">",
    )) as [string, [string, string[] | null][]][] | null;
    const entries = reply?.[0]?.[1] ?? [];
    if (state.readPending && entries.length < batchSize) state.readPending = false;
    return toReads(state.key, entries);
  }

  /** Entries whose consumer stopped acknowledging them for claimIdleMs. */
  async function claimStream(state: StreamState, room: number): Promise<Read[]> {
    const reads: Read[] = [];
    let start = "0-0";
    do {
      const [next, entries] = (await client.xautoclaim(
        state.key,
        group,
        consumer,
        options.claimIdleMs,
        start,
        "COUNT",
        Math.max(1, room - reads.length),
      )) as [string, [string, string[] | null][]];
      reads.push(...toReads(state.key, entries));
      start = next;
    } while (start !== "0-0" && reads.length < room);
    reclaimed += reads.length;
    return reads;
  }

  /** Entries deleted while pending have no fields: nothing to record; they are acknowledged with the batch. */
  function toReads(stream: string, entries: [string, string[] | null][]): Read[] {
    return entries.map(([id, fields]) => ({ stream, entry: [id, fields ?? []] as StreamEntry }));
  }

  async function acknowledge(reads: readonly Read[]): Promise<void> {
    const byStream = new Map<string, string[]>();
    for (const { stream, entry } of reads) {
      const ids = byStream.get(stream);
      if (ids) ids.push(entry[0]);
      else byStream.set(stream, [entry[0]]);
    }
    await Promise.all(
      [...byStream].map(async ([stream, ids]) => {
        const replies = await client
          .multi()
          .xack(stream, group, ...ids)
          .xdel(stream, ...ids)
          .exec();
        const failed = replies?.find(([error]) => error);
        if (!replies || failed) throw failed?.[0] ?? new AuditError(`acknowledging events of ${stream} failed`);
      }),
    );
  }

  function recordLags(reads: readonly Read[], committedAtMs: number): void {
    for (const { entry } of reads) {
      const atMs = Number(entry[0].split("-")[0]);
      const lagMs = Math.max(0, committedAtMs - atMs);
      lags[lagCursor % LAG_WINDOW] = lagMs;
      lagCursor++;
      recordDuration("auditLag", lagMs);
    }
  }

  /** Inserts, then acknowledges, in chunks of batchSize; retries a chunk until it is in (or the sink stops). */
  async function deliver(reads: readonly Read[]): Promise<void> {
    for (let i = 0; i < reads.length; i += batchSize) {
      const chunk = reads.slice(i, i + batchSize);
      const rows = chunk.filter(({ entry }) => entry[1].length > 0).map(({ stream, entry }) => entryRow(stream, entry));
      const db = postgres as AuditPostgres;
      const inserted = await retrying(
        () => insertRows(db, schema, rows),
        () => {
          postgresDown = true;
        },
      );
      if (inserted === undefined) return; // stopped while PostgreSQL was down: the events stay pending
      postgresDown = false;
      delivered += inserted;
      duplicates += rows.length - inserted;
      countEvent("auditDelivered", {}, inserted);
      if (rows.length > inserted) countEvent("auditDuplicates", {}, rows.length - inserted);
      recordLags(chunk, Date.now());
      try {
        await acknowledge(chunk);
      } catch (error) {
        // Delivered but still pending: read again (and skipped as duplicates) once Redis answers.
        report(error);
        for (const { stream } of chunk) {
          const state = streams.get(stream);
          if (state) state.readPending = true;
        }
      }
    }
  }

  async function cycle(): Promise<void> {
    // Schedules run on performance.now() (monotonic): a step of the wall clock must not stall polling. Lags compare
    // with the server's event times, so they use the wall clock.
    const now = performance.now();
    if (now >= nextDiscoverAt) {
      await discover();
      nextDiscoverAt = now + options.discoverIntervalMs;
    }
    const reads: Read[] = [];
    if (now >= nextClaimAt) {
      for (const state of streams.values()) {
        if (reads.length >= batchSize) break;
        reads.push(...(await claimStream(state, batchSize - reads.length)));
      }
      nextClaimAt = now + Math.max(100, Math.floor(options.claimIdleMs / 2));
    }
    const due = [...streams.values()].filter((state) => state.nextPollAt <= now);
    for (let i = 0; i < due.length && reads.length < batchSize * 4; i += READ_CONCURRENCY) {
      const group = due.slice(i, i + READ_CONCURRENCY);
      const results = await Promise.all(group.map(readStream));
      group.forEach((state, j) => {
        const got = results[j] ?? [];
        reads.push(...got);
        if (got.length > 0 || state.readPending) {
          state.idleMs = 0;
          state.nextPollAt = 0;
        } else {
          state.idleMs = Math.min(Math.max(state.idleMs * 2, options.pollIntervalMs), options.idlePollMaxMs);
          state.nextPollAt = performance.now() + state.idleMs;
        }
      });
    }
    if (reads.length > 0) {
      oldestInFlightMs = Math.min(...reads.map(({ entry }) => Number(entry[0].split("-")[0])));
      await deliver(reads);
      oldestInFlightMs = undefined;
      return;
    }
    const nextPoll = Math.min(nextDiscoverAt, ...[...streams.values()].map((s) => s.nextPollAt));
    await pause(Math.max(5, Math.min(nextPoll - performance.now(), options.idlePollMaxMs)));
  }

  async function run(): Promise<void> {
    while (!stopping) {
      const ok = await retrying(cycle);
      if (ok === undefined && stopping) break;
    }
  }

  const ready = (async () => {
    postgres = typeof options.postgres === "string" ? await openPostgres(options.postgres) : options.postgres;
    if (typeof options.postgres === "string") owned = postgres as unknown as { end(): Promise<void> };
    const db = postgres;
    const done = await retrying(
      () => setupAuditTables(db, schema),
      () => {
        postgresDown = true;
      },
    );
    if (done === undefined && stopping) throw new AuditError("the audit sink was stopped before its tables existed");
    postgresDown = false;
  })();
  const running = ready.then(run, (error: unknown) => report(error));
  ready.catch(() => undefined);

  const percentile = (p: number) => {
    const window = lags.slice(0, Math.min(lagCursor, LAG_WINDOW)).sort((a, b) => a - b);
    if (window.length === 0) return 0;
    return window[Math.min(window.length - 1, Math.floor(p * window.length))] ?? 0;
  };

  return {
    ready,
    stats: () => ({
      delivered,
      duplicates,
      reclaimed,
      streams: streams.size,
      lagMs: oldestInFlightMs === undefined ? 0 : Math.max(0, Date.now() - oldestInFlightMs),
      lagP50Ms: percentile(0.5),
      lagP99Ms: percentile(0.99),
      postgresDown,
      lastError,
    }),
    async backlog() {
      const keys = await client.smembers(registry);
      const lengths = await Promise.all(keys.map((key) => client.xlen(key)));
      return lengths.reduce((sum, n) => sum + n, 0);
    },
    async flush(timeoutMs = 30_000) {
      const deadline = performance.now() + timeoutMs;
      const keys = await client.smembers(registry);
      const targets = await Promise.all(
        keys.map(async (key) => {
          const last = (await client.xrevrange(key, "+", "-", "COUNT", 1)) as [string, string[]][];
          return [key, last[0]?.[0]] as const;
        }),
      );
      for (const [key, target] of targets) {
        if (!target) continue;
        for (;;) {
          const left = await client.xrange(key, "-", target, "COUNT", 1);
          if (left.length === 0) break;
          if (performance.now() > deadline) {
            throw new AuditError(`flush: events of ${key} up to ${target} not delivered within ${timeoutMs} ms`);
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    },
    async stop() {
      stopping = true;
      wake?.();
      await running;
      await owned?.end().catch(() => undefined);
    },
  };
}

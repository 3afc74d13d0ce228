/**
 * Reads the audit events still in the outbox streams (written, not yet drained by a sink): the streams come from the
 * registry set the writers fill (no SCAN), each is read newest first with XREVRANGE and a COUNT, so a read is
 * bounded however long the streams are. Events a sink has delivered are in PostgreSQL (auditTrail), not here.
 */
import type { RedisClient } from "../client.js";
import { auditRegistryKey } from "../keys.js";
import { entryEvent, type StreamEntry } from "./rows.js";
import type { AuditEvent } from "./trail.js";

export interface OutboxRead {
  /** Oldest first (server time, then stream entry id). */
  readonly events: AuditEvent[];
  /** Outbox streams registered under the prefix (0: nothing was ever audited under it). */
  readonly streams: number;
  /** Some stream held more than `maxPerStream` events: its oldest ones were not read. */
  readonly truncated: boolean;
}

export async function readOutboxEvents(
  client: RedisClient,
  keyPrefix: string,
  options: { readonly maxPerStream: number },
): Promise<OutboxRead> {
  // One stream per cluster slot at most (16,384), so the registry is small enough to read in one reply.
  const streams = (await client.smembers(auditRegistryKey(keyPrefix))).sort();
  let truncated = false;
  const perStream = await Promise.all(
    streams.map(async (stream) => {
      const entries = (await client.xrevrange(stream, "+", "-", "COUNT", options.maxPerStream)) as StreamEntry[];
      if (entries.length >= options.maxPerStream) truncated = true;
      return entries.map((entry) => entryEvent(stream, entry));
    }),
  );
  const events = perStream.flat().sort(byTime);
  return { events, streams: streams.length, truncated };
}

/** Server time, then the stream entry id (ms-seq) and the event id: the order auditTrail returns events in. */
export function byTime(a: AuditEvent, b: AuditEvent): number {
  return a.at.getTime() - b.at.getTime() || entryOrder(a.id, b.id) || a.id.localeCompare(b.id);
}

function entryOrder(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = (a.slice(a.lastIndexOf("/") + 1).split("-") as string[]).map(Number);
  const [bMs = 0, bSeq = 0] = (b.slice(b.lastIndexOf("/") + 1).split("-") as string[]).map(Number);
  return aMs - bMs || aSeq - bSeq;
}

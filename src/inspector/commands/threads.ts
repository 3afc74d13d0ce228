import {
  type CommandContext,
  type CommandResult,
  emptyPrefixMessage,
  intOption,
  prefixIsEmpty,
  stringOption,
} from "../context.js";
import { InspectorNotFoundError, InspectorUsageError } from "../errors.js";
import { formatBytes, formatTime, table } from "../output.js";
import { type RunLeaseInfo, readLeaseIndexes } from "../read/leases.js";
import { indexedThreads, mapLimited, summarizeThread, type ThreadStatus, type ThreadSummary } from "../read/threads.js";

const STATUSES: readonly ThreadStatus[] = ["running", "crashed", "interrupted", "error", "pending", "done"];

/** `threads [--status s] [--match glob] [--since 15m] [--limit n]` */
export async function threadsCommand(ctx: CommandContext): Promise<CommandResult> {
  const limit = intOption(ctx, "limit", 50);
  const scan = intOption(ctx, "scan", 1000);
  const status = stringOption(ctx, "status");
  if (status !== undefined && !STATUSES.includes(status as ThreadStatus)) {
    throw new InspectorUsageError(`--status must be one of ${STATUSES.join(", ")}; got ${JSON.stringify(status)}`);
  }
  const match = globRegex(stringOption(ctx, "match"));
  const sinceMs = parseSince(stringOption(ctx, "since"));

  const indexed = (await indexedThreads(ctx.client, ctx.prefix, scan)).filter(
    (t) => (match === undefined || match.test(t.threadId)) && (sinceMs === undefined || t.lastWriteMs >= sinceMs),
  );
  const { indexes } = await readLeaseIndexes(ctx.client, ctx.patterns, { maxKeys: ctx.maxKeys, maxLeases: 10_000 });
  const leases = new Map<string, RunLeaseInfo>();
  for (const lease of indexes.flatMap((index) => index.leases)) {
    if (lease.checkpointNs !== "") continue;
    const seen = leases.get(lease.threadId);
    if (!seen || seen.expiresAtMs < lease.expiresAtMs) leases.set(lease.threadId, lease);
  }
  // Without --status only the first `limit` threads need reading (plus a few, for index entries gone stale).
  const candidates = status === undefined ? indexed.slice(0, limit + 10) : indexed;
  if (candidates.length > 20) ctx.progress(`reading ${candidates.length} threads...`);
  const summaries = (
    await mapLimited(candidates, 16, (t) =>
      summarizeThread(ctx.saver, t.threadId, t.lastWriteMs, leases.get(t.threadId)),
    )
  ).filter((s): s is ThreadSummary => s !== undefined && (status === undefined || s.status === status));
  const threads = summaries.slice(0, limit);
  const more = status === undefined ? indexed.length - threads.length : summaries.length - threads.length;

  if (threads.length === 0 && indexed.length === 0 && match === undefined && sinceMs === undefined) {
    if (await prefixIsEmpty(ctx)) throw new InspectorNotFoundError(emptyPrefixMessage(ctx, "threads"));
  }
  const text =
    threads.length === 0
      ? "no threads match"
      : table(
          ["thread", "last write", "status", "steps", "checkpoints", "size", "last writer", "next"],
          threads.map((t) => [
            t.threadId,
            formatTime(t.lastWriteMs),
            t.status,
            t.step ?? "-",
            t.checkpoints,
            formatBytes(t.bytes),
            t.lastWriter,
            t.next,
          ]),
        ) + (more > 0 ? `\n(${more} more: raise --limit)` : "");
  return { data: { prefix: ctx.prefix, threads }, text };
}

/** "*" and "?" globs over thread ids; a pattern without either matches as a substring. */
export function globRegex(pattern: string | undefined): RegExp | undefined {
  if (pattern === undefined) return undefined;
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, (ch) => `\\${ch}`)
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return /[*?]/.test(pattern) ? new RegExp(`^${source}$`, "s") : new RegExp(source, "s");
}

/** "15m", "2h", "3d", "90s" ago, or an ISO date; undefined when not given. */
export function parseSince(text: string | undefined, nowMs = Date.now()): number | undefined {
  if (text === undefined) return undefined;
  const relative = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (relative) {
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as "ms"];
    return nowMs - Number(relative[1]) * unit;
  }
  const absolute = Date.parse(text);
  if (Number.isFinite(absolute)) return absolute;
  throw new InspectorUsageError(`--since takes a duration (90s, 15m, 2h, 3d) or a date; got ${JSON.stringify(text)}`);
}

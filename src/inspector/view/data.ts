/** What the page shows, read from Redis through the same readers as the text commands. */
import type { HistoryEntry } from "../../store/codec.js";
import type { CommandContext } from "../context.js";
import { parseNamespace } from "../context.js";
import { InspectorNotFoundError, InspectorUsageError } from "../errors.js";
import { readActivity, type ViewActivity } from "../read/activity.js";
import { placeOnLanes } from "../read/branches.js";
import { type CheckpointInfo, readHistory } from "../read/checkpoints.js";
import { type LockInfo, type RunLeaseInfo, readLeaseIndexes, readLocks } from "../read/leases.js";
import { indexedThreads } from "../read/threads.js";

export interface ViewCheckpoint extends CheckpointInfo {
  readonly branch: number;
  readonly forkStart: boolean;
}

export interface ViewThread {
  readonly threadId: string;
  readonly branches: number;
  readonly checkpoints: readonly ViewCheckpoint[];
  /** Run leases on the thread now: live (a bar to its expiry), expired (a crash mark), claims (a resume mark). */
  readonly leases: readonly RunLeaseInfo[];
}

export interface ViewItem {
  readonly namespace: readonly string[];
  readonly key: string;
  /** Oldest first. */
  readonly history: readonly HistoryEntry[];
}

export interface ViewData {
  readonly prefix: string;
  readonly generatedAtMs: number;
  readonly serverTimeMs: number;
  readonly threads: readonly ViewThread[];
  readonly locks: readonly LockInfo[];
  readonly items: readonly ViewItem[];
  /** Lock holds and waits, crashes and resumes of the drawn threads, from the audit trail. */
  readonly activity: ViewActivity;
}

/** Where the page's history comes from (view --postgres, --schema, --events). */
export interface ActivitySource {
  readonly postgres: string | undefined;
  readonly schema: string;
  readonly maxPerStream: number;
}

/** "namespace/key" with the namespace's labels joined by "." (users.alice/profile). */
export function parseItemSpec(spec: string): { namespace: string[]; key: string } {
  const slash = spec.indexOf("/");
  if (slash <= 0 || slash === spec.length - 1) {
    throw new InspectorUsageError(
      `--item ${JSON.stringify(spec)}: write it as namespace/key, e.g. users.alice/profile`,
    );
  }
  return { namespace: parseNamespace(spec.slice(0, slash)), key: spec.slice(slash + 1) };
}

export async function collectViewData(
  ctx: CommandContext,
  threadIds: readonly string[],
  itemSpecs: readonly string[],
  newest: number,
  source: ActivitySource,
): Promise<ViewData> {
  const items = itemSpecs.map(parseItemSpec);
  let ids = [...threadIds];
  if (ids.length === 0 && items.length === 0) {
    ids = (await indexedThreads(ctx.client, ctx.prefix, newest)).map((t) => t.threadId);
  }
  const [{ indexes, nowMs }, { locks }] = await Promise.all([
    readLeaseIndexes(ctx.client, ctx.patterns, { maxKeys: ctx.maxKeys, maxLeases: 10_000 }),
    readLocks(ctx.client, ctx.patterns, { maxKeys: ctx.maxKeys }),
  ]);
  const leases = indexes.flatMap((index) => index.leases);
  const named = threadIds.length > 0;
  const drawn = await Promise.all(
    ids.map(async (threadId): Promise<ViewThread | undefined> => {
      const checkpoints = await readHistory(ctx.saver, threadId, { limit: 2000 });
      // An index entry whose thread expired meanwhile is skipped; a thread asked for by name must exist.
      if (checkpoints.length === 0 && !named) return undefined;
      if (checkpoints.length === 0) {
        throw new InspectorNotFoundError(
          `thread ${JSON.stringify(threadId)} has no checkpoints under the prefix ${JSON.stringify(ctx.prefix)}: ` +
            "list the threads with `langgraph-redis threads`",
        );
      }
      const placed = placeOnLanes(checkpoints);
      return {
        threadId,
        branches: Math.max(...placed.map((p) => p.lane)) + 1,
        checkpoints: placed.map(({ item, lane, forkStart }) => ({ ...item, branch: lane, forkStart })),
        leases: leases.filter((lease) => lease.threadId === threadId),
      };
    }),
  );
  const threads = drawn.filter((thread) => thread !== undefined);
  const histories = await Promise.all(
    items.map(async ({ namespace, key }): Promise<ViewItem> => {
      const history = await ctx.store.history(namespace, key, { limit: 1000 });
      if (history.length === 0) {
        throw new InspectorNotFoundError(
          `item ${JSON.stringify(key)} in namespace ${JSON.stringify(namespace.join("."))} has no history under ` +
            `the prefix ${JSON.stringify(ctx.prefix)}`,
        );
      }
      return { namespace, key, history: [...history].reverse() };
    }),
  );
  if (threads.length === 0 && histories.length === 0) {
    throw new InspectorNotFoundError(
      `no threads under the prefix ${JSON.stringify(ctx.prefix)} to draw: pass the keyPrefix your RedisSaver uses ` +
        "with --prefix, or name threads and items (view <thread> --item namespace/key)",
    );
  }
  const times = threads.flatMap((thread) => thread.checkpoints.map((c) => c.timeMs));
  const activity = await readActivity(
    ctx,
    threads.map((thread) => thread.threadId),
    { fromMs: Math.min(...times, nowMs), toMs: Math.max(...times, Number.NEGATIVE_INFINITY) },
    {
      ...source,
      nowMs,
      heldNow: new Map(locks.map((lock) => [lock.name, lock.fenceCounter])),
    },
  );
  return {
    prefix: ctx.prefix,
    generatedAtMs: Date.now(),
    serverTimeMs: nowMs,
    threads,
    locks,
    items: histories,
    activity,
  };
}

/**
 * list(): checkpoints newest first, a page (one read script round trip) at a time.
 * - With a thread_id, it ranges that thread's own index: the cost depends on the page, not on how many checkpoints
 *   the thread holds. checkpoint_ns narrows it to one namespace; without it, every namespace of the thread.
 * - Without a thread_id, it walks the cross-thread index (threads most recently active first) and lists each
 *   thread in turn, removing index entries whose thread has expired or was deleted.
 * `before` compares checkpoint ids; `filter` matches metadata fields by deep equality; `limit` (a whole number, or
 * Infinity) caps the total.
 */
import { isDeepStrictEqual } from "node:util";
import type { RunnableConfig } from "@langchain/core/runnables";
import type { CheckpointListOptions, CheckpointTuple } from "@langchain/langgraph-checkpoint";
import { describeValue, InvalidConfigError, InvalidInputError } from "../errors.js";
import { type OptionalThreadConfig, readOptionalThreadConfig } from "./config.js";
import type { SaverContext } from "./context.js";
import { decodeCheckpoint } from "./decode.js";
import {
  allNamespacesRange,
  type CheckpointRange,
  continueRange,
  exactRange,
  idInAllNamespacesRange,
  namespaceRange,
  readCheckpoints,
} from "./read.js";
import { forgetThread, indexedThreads } from "./thread-index.js";
import { requireWellFormed } from "./well-formed.js";

const PAGE_SIZE = 100;

interface ListPlan {
  scope: OptionalThreadConfig;
  beforeId: string | undefined;
  filter: Record<string, unknown> | undefined;
  /** Checkpoints still to yield (Infinity: no limit). */
  remaining: number;
}

export async function* listCheckpoints(
  context: SaverContext,
  config: RunnableConfig,
  options?: CheckpointListOptions,
): AsyncGenerator<CheckpointTuple> {
  const plan = planList(config, options);
  if (plan.remaining <= 0) return;
  if (plan.scope.threadId !== undefined) {
    yield* listThread(context, plan.scope.threadId, plan);
    return;
  }
  for await (const { threadId, score, legacy } of indexedThreads(context)) {
    const found = yield* listThread(context, threadId, plan);
    if (!found) await forgetThread(context, threadId, score, legacy);
    if (plan.remaining <= 0) return;
  }
}

function planList(config: RunnableConfig, options: CheckpointListOptions | undefined): ListPlan {
  const operation = "RedisSaver.list";
  const scope = readOptionalThreadConfig(config === undefined ? {} : config, operation);
  const before = options?.before === undefined ? undefined : readOptionalThreadConfig(options.before, operation);
  const { limit, filter } = options ?? {};
  // MemorySaver reads 1.5 as 2 and null as 0; neither is what a caller meant, so both are refused, like NaN.
  if (limit !== undefined && !(Number.isInteger(limit) || limit === Number.POSITIVE_INFINITY)) {
    throw new InvalidInputError(
      `${operation}: limit must be a whole number (0 or less: none; Infinity or undefined: no limit), ` +
        `received ${describeValue(limit)}`,
    );
  }
  if (filter !== undefined && filter !== null && (typeof filter !== "object" || Array.isArray(filter))) {
    throw new InvalidConfigError(`${operation}: filter must be an object, received ${describeValue(filter)}`);
  }
  requireWellFormed(
    {
      thread_id: scope.threadId ?? "",
      checkpoint_ns: scope.ns ?? "",
      checkpoint_id: scope.checkpointId ?? "",
      "before.checkpoint_id": before?.checkpointId ?? "",
    },
    operation,
  );
  return {
    scope,
    beforeId: before?.checkpointId,
    filter: filter ?? undefined,
    remaining: limit ?? Number.POSITIVE_INFINITY,
  };
}

function firstRange(plan: ListPlan, pageSize: number): CheckpointRange {
  const { ns, checkpointId } = plan.scope;
  if (checkpointId !== undefined) {
    return ns === undefined ? idInAllNamespacesRange(checkpointId, pageSize) : exactRange(ns, checkpointId);
  }
  return ns === undefined ? allNamespacesRange(plan.beforeId, pageSize) : namespaceRange(ns, plan.beforeId, pageSize);
}

function matches(plan: ListPlan, tuple: CheckpointTuple): boolean {
  if (plan.beforeId !== undefined && !(tuple.checkpoint.id < plan.beforeId)) return false;
  if (plan.filter === undefined) return true;
  const metadata = (tuple.metadata ?? {}) as Record<string, unknown>;
  return Object.entries(plan.filter).every(([key, value]) => isDeepStrictEqual(metadata[key], value));
}

/** Yields one thread's matching checkpoints; returns whether the thread holds any checkpoint at all. */
async function* listThread(
  context: SaverContext,
  threadId: string,
  plan: ListPlan,
): AsyncGenerator<CheckpointTuple, boolean> {
  // Without a filter every checkpoint read is yielded, so read no more than the limit asks for.
  const pageSize = plan.filter === undefined ? Math.min(plan.remaining, PAGE_SIZE) : PAGE_SIZE;
  let range = firstRange(plan, pageSize);
  let hasCheckpoints = false;
  for (;;) {
    const page = await readCheckpoints(context, threadId, range, plan.scope.ns, "list");
    hasCheckpoints = page.hasCheckpoints;
    const decoded = await Promise.all(page.checkpoints.map((raw) => decodeCheckpoint(context, threadId, raw)));
    for (const { tuple } of decoded) {
      if (!matches(plan, tuple)) continue;
      yield tuple;
      plan.remaining -= 1;
      if (plan.remaining <= 0) return hasCheckpoints;
    }
    const last = page.checkpoints.at(-1);
    if (last === undefined || page.checkpoints.length < range.limit || range.min === range.max) return hasCheckpoints;
    range = continueRange(
      { ...range, limit: plan.filter === undefined ? Math.min(plan.remaining, PAGE_SIZE) : PAGE_SIZE },
      last.field,
    );
  }
}

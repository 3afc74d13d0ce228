import type { Item } from "@langchain/langgraph-checkpoint";
import { VersionConflictError } from "../errors.js";
import { runRouted } from "../routing.js";
import { recordToItem } from "./codec.js";
import type { StoreContext } from "./context.js";
import { getCall } from "./crud/get.js";
import { writeItem } from "./crud/write-item.js";
import type { StoreWriteOptions } from "./options.js";

/** An item with its version and who wrote it last. */
export interface VersionedItem extends Item {
  /** Version of the item: 1 for its first write, +1 for every write since (deletes included). */
  readonly version: number;
  readonly updatedBy: string | null;
  /** When the item expires (null: never). */
  readonly expiresAt: Date | null;
}

export async function readVersioned(
  ctx: StoreContext,
  namespace: readonly string[],
  key: string,
): Promise<VersionedItem | null> {
  const [record] = await runRouted(ctx, [getCall(ctx, namespace, key, ctx.options.ttl.refreshOnRead)]);
  if (!record) return null;
  return {
    ...recordToItem(record, namespace, key),
    version: record.version,
    updatedBy: record.writer,
    expiresAt: record.expireAt === null ? null : new Date(record.expireAt),
  };
}

export interface UpdateOptions extends StoreWriteOptions {
  /** Reads and writes tried at most before the last VersionConflictError is thrown. Default 50. */
  maxAttempts?: number;
}

export type UpdateFn = (
  current: Record<string, unknown> | null,
  item: VersionedItem | null,
) => Record<string, unknown> | null | Promise<Record<string, unknown> | null>;

/** Longest wait between two attempts (ms); the wait is random, up to 2^attempt ms, so contenders spread out. */
const MAX_BACKOFF_MS = 1000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Read-modify-write without lost updates: reads the item and its version, applies `fn`, and writes only if nobody
 * wrote in between; on a conflict it waits a short random time (growing with each attempt) and starts over.
 */
export async function updateItem(
  ctx: StoreContext,
  namespace: string[],
  key: string,
  fn: UpdateFn,
  options: UpdateOptions,
): Promise<{ value: Record<string, unknown> | null; version: number }> {
  const { maxAttempts = 50, ...writeOptions } = options;
  for (let attempt = 1; ; attempt++) {
    const current = await readVersioned(ctx, namespace, key);
    const next = await fn(current?.value ?? null, current);
    try {
      const version = await writeItem(ctx, namespace, key, next, current?.version ?? 0, writeOptions);
      return { value: next, version };
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= maxAttempts) throw error;
      await sleep(Math.random() * Math.min(MAX_BACKOFF_MS, 2 ** attempt));
    }
  }
}

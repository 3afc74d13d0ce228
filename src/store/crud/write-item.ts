import { executeBatch, type WriteExtras } from "../batch.js";
import type { StoreContext } from "../context.js";
import type { StoreWriteOptions } from "../options.js";

/**
 * One direct write (put, delete, putIfVersion, update's write): a batch of one put with the write's own options.
 * `expectedVersion` undefined writes unconditionally; null or 0 only if the item does not exist; n only if the item
 * is at version n (else VersionConflictError). Returns the item's new version.
 */
export async function writeItem(
  ctx: StoreContext,
  namespace: string[],
  key: string,
  value: Record<string, unknown> | null,
  expectedVersion: number | null | undefined,
  options: StoreWriteOptions,
): Promise<number> {
  const { index, ...rest } = options;
  const extras: WriteExtras = { ...rest, expectedVersion };
  const { reports } = await executeBatch(ctx, [{ namespace, key, value, index }], [extras]);
  return reports[0]?.version ?? 0;
}

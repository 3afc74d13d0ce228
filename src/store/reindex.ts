import { InvalidInputError } from "../errors.js";
import { storeNamespaceKeys } from "../keys.js";
import { scriptCall } from "../lua/index.js";
import { commandCall, runRouted } from "../routing.js";
import { decodeRecord } from "./codec.js";
import { indexKeysOf, type StoreContext } from "./context.js";
import { fieldScores } from "./field-index.js";
import { rangeForPrefix, readRegistry } from "./registry.js";
import { valueReader } from "./value-cipher.js";

/**
 * Reindexing: items written before a field was declared in `filterIndex` are in no index of it, so filters on the
 * field would miss them. `RedisStore.reindex` walks the registry and each namespace's items in insertion order, a
 * bounded page per call, and sets every item's scores (storeReindex; an item written since it was read is left
 * alone, as its write indexed it). Calls are independent: run them from a script or a timer until the cursor is null.
 */
export interface ReindexResult {
  /** Pass it to the next call to go on; null when the walk is done. */
  readonly cursor: string | null;
  /** Items whose index entries were set in this step. */
  readonly indexed: number;
}

/** Where a walk stands: the namespace member, and the insertion sequence of the last item done (-1: all done). */
type Position = readonly [member: string, after: number];

function parseCursor(cursor: string): Position {
  try {
    const parsed = JSON.parse(cursor) as unknown;
    if (Array.isArray(parsed) && typeof parsed[0] === "string" && Number.isFinite(parsed[1])) {
      return [parsed[0], parsed[1] as number];
    }
  } catch {
    // reported below
  }
  throw new InvalidInputError(`reindex: the cursor ${JSON.stringify(cursor)} is not one reindex returned`);
}

/** One step: up to `maxItems` items of the first namespace at or after the cursor, under `prefix`. */
export async function reindexStep(
  ctx: StoreContext,
  prefix: readonly string[],
  cursor: string | null,
  maxItems: number,
): Promise<ReindexResult> {
  if (ctx.fields.length === 0) {
    throw new InvalidInputError("reindex: the store declares no filterIndex fields, so there is nothing to index");
  }
  const [min, max] = rangeForPrefix(prefix);
  const position = cursor === null ? undefined : parseCursor(cursor);
  const from = position === undefined ? min : `${position[1] < 0 ? "(" : "["}${position[0]}`;
  const [ns] = await readRegistry(ctx, [from, max], 1);
  if (!ns) return { cursor: null, indexed: 0 };
  const after = position && position[0] === ns.member && position[1] >= 0 ? position[1] : 0;

  const keys = storeNamespaceKeys(ctx.keyPrefix, ns.namespace);
  const [page] = await runRouted(ctx, [
    commandCall<string[]>(keys.order, (p) => {
      p.zrangebyscore(keys.order, `(${after}`, "+inf", "WITHSCORES", "LIMIT", 0, maxItems);
    }),
  ]);
  const itemKeys = page.filter((_, i) => i % 2 === 0);
  const last = Number(page[page.length - 1] ?? after);
  const next = (done: boolean) => JSON.stringify([ns.member, done ? -1 : last]);
  if (itemKeys.length === 0) return { cursor: next(true), indexed: 0 };

  const [records] = await runRouted(ctx, [
    commandCall<(Buffer | null)[]>(keys.items, (p) => {
      p.hmgetBuffer(keys.items, ...itemKeys);
    }),
  ]);
  const args: (string | number)[] = [];
  itemKeys.forEach((key, i) => {
    const raw = records[i];
    if (raw === null || raw === undefined) return; // deleted since the page was read
    const record = decodeRecord(raw, keys.items, key, valueReader(ctx, ns.namespace, key, keys.items));
    args.push(key, record.version, fieldScores(ctx.fields, record.value));
  });
  const fieldIndexes = indexKeysOf(ctx, ns.namespace);
  const [indexed] = await runRouted(ctx, [
    scriptCall("storeReindex", { items: keys.items, fieldIndexes }, [...args, fieldIndexes.length]),
  ]);
  return { cursor: next(itemKeys.length < maxItems), indexed };
}

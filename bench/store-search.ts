/**
 * RedisStore search over 10,000 items of one namespace, without and with filter indexes (`filterIndex`), each
 * against a get of one item on the same store (interleaved): a selective equality filter (20 matches), a selective
 * range filter (20 matches, paged in the script), and a page deep into the namespace with no filter. Then the memory
 * the indexes add per item (MEMORY USAGE of every key of each store, divided by the items).
 */
import type { Operation } from "@langchain/langgraph-checkpoint";
import { RedisStore } from "../src/index.js";
import { measureVsFloor, vsFloorTables } from "./compare.js";
import type { BenchContext } from "./context.js";
import { memoryUsage, scanKeys } from "./keyspace.js";
import { jsonBytes, storeItem } from "./payloads.js";

const ITEMS = 10_000;
const MATCHES = 20;
const FILL_BATCH = 500;

/** A store item where 1 in 500 is "escalated" (20 of 10,000) and `seq` counts up (a range of 20 selects 20). */
function searchItem(i: number): Record<string, unknown> {
  return { ...storeItem(i), status: i % (ITEMS / MATCHES) === 7 ? "escalated" : storeItem(i).status, seq: i };
}

async function fill(store: RedisStore, namespace: string[]): Promise<void> {
  for (let from = 0; from < ITEMS; from += FILL_BATCH) {
    const ops: Operation[] = [];
    for (let i = from; i < Math.min(ITEMS, from + FILL_BATCH); i++) {
      ops.push({ namespace, key: `item-${i}`, value: searchItem(i) });
    }
    await store.batch(ops);
  }
}

export async function storeSearchSection(ctx: BenchContext): Promise<void> {
  const namespace = ["bench", "tickets"];
  const variants = [
    { id: "plain", label: "no filterIndex", prefix: ctx.keyPrefix("search-plain"), filterIndex: undefined },
    {
      id: "indexed",
      label: "filterIndex",
      prefix: ctx.keyPrefix("search-indexed"),
      filterIndex: { fields: { status: "string", seq: "number", agent: "string" } } as const,
    },
  ];
  const tables = vsFloorTables(ctx, "storeSearch", "RedisStore search, 10,000 items");
  const memory = ctx.recorder.table(
    "storeSearch-memory",
    "RedisStore memory per item, with and without filter indexes",
    [
      { key: "variant", label: "Store", kind: "text" },
      { key: "keys", label: "Keys", kind: "int" },
      { key: "perItem", label: "Bytes per item", kind: "bytes" },
      { key: "indexPerItem", label: "Index bytes per item", kind: "bytes" },
    ],
  );
  const perItem = new Map<string, number>();
  for (const variant of variants) {
    const store = new RedisStore({ client: ctx.client, keyPrefix: variant.prefix, filterIndex: variant.filterIndex });
    ctx.progress.step(`${variant.label}: filling a namespace with ${ITEMS.toLocaleString("en-US")} items`);
    await fill(store, namespace);
    const get = (i: number) => store.get(namespace, `item-${(i * 7919) % ITEMS}`);
    const equality = { status: "escalated" };
    const range = { seq: { $gte: 4000, $lt: 4000 + MATCHES } };
    for (const [filter, what] of [
      [equality, "equality"],
      [range, "range"],
    ] as const) {
      const found = await store.search(namespace, { filter, limit: MATCHES });
      if (found.length !== MATCHES) throw new Error(`search (${what}) found ${found.length} items, not ${MATCHES}`);
      await measureVsFloor(
        ctx,
        tables,
        {
          op: `search, ${what} filter matching ${MATCHES} (${variant.label})`,
          bytes: found.reduce((sum, item) => sum + jsonBytes(item.value), 0),
          floor: "store.get of one item",
          metric: `storeSearch.${variant.id}.${what}`,
          run: () => store.search(namespace, { filter, limit: MATCHES }),
          runFloor: get,
          commandCalls: 5,
          cpuCalls: variant.filterIndex ? 100 : 5,
        },
        ctx.iterations(variant.filterIndex ? 1000 : 40, 10),
      );
    }
    await measureVsFloor(
      ctx,
      tables,
      {
        op: `search, no filter, offset 5,000 limit 10 (${variant.label})`,
        bytes: null,
        floor: "store.get of one item",
        metric: `storeSearch.${variant.id}.page`,
        run: () => store.search(namespace, { offset: 5000, limit: 10 }),
        runFloor: get,
        commandCalls: 5,
        cpuCalls: 100,
      },
      ctx.iterations(1000, 10),
    );
    ctx.progress.step(`${variant.label}: MEMORY USAGE of every key`);
    const keys = await scanKeys(ctx.client, `${variant.prefix}|*`);
    const bytes = await memoryUsage(ctx.client, keys);
    const indexKeys = keys.filter((key) => key.includes(":fx:"));
    const indexBytes = await memoryUsage(ctx.client, indexKeys);
    perItem.set(variant.id, bytes / ITEMS);
    memory.rows.push({
      variant: variant.filterIndex ? `filterIndex (${Object.keys(variant.filterIndex.fields).join(", ")})` : "none",
      keys: keys.length,
      perItem: bytes / ITEMS,
      indexPerItem: indexBytes / ITEMS,
    });
    ctx.recorder.metric(`storeSearch.${variant.id}.bytesPerItem`, bytes / ITEMS);
    await store.close();
  }
  const plain = perItem.get("plain") ?? 0;
  const indexed = perItem.get("indexed") ?? 0;
  ctx.recorder.metric("storeSearch.indexBytesPerItem", indexed - plain);
  memory.notes.push(
    "Bytes: MEMORY USAGE (SAMPLES 0) of every key of the store (items, order, history, fence marks, registry and " +
      "the filter index sorted sets), divided by the items; index bytes: the filter index sorted sets alone " +
      "(three declared fields: two string, one number).",
  );
  tables.latency.notes.push(
    `Items are JSON documents of about ${jsonBytes(searchItem(7))} bytes in one namespace of ${ITEMS.toLocaleString("en-US")}; ` +
      `the equality filter ({ status: "escalated" }) and the range filter ({ seq: { $gte: 4000, $lt: 4020 } }) ` +
      `each match ${MATCHES} items, returned as one page (limit ${MATCHES}).`,
    "Without filterIndex a filtered search reads every item of the namespace and filters on the client; with it, " +
      "the script reads only the items the index selects. The floor is a store.get of one item on the same store.",
  );
}

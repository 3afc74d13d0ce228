/**
 * RedisStore operations against their floors: get, put, a filtered search over a namespace of 10,000 items, and
 * one batch of 50 mixed operations (what LangGraph's AsyncBatchedStore sends for a step) against a raw pipeline of
 * as many GETs and SETs. Written against BaseStore, so the same code measures any store.
 */
import type { BaseStore, Operation } from "@langchain/langgraph-checkpoint";
import { measureVsFloor, vsFloorTables } from "./compare.js";
import type { BenchContext } from "./context.js";
import { floorOps } from "./floor.js";
import { jsonBytes, storeItem } from "./payloads.js";
import { nowMs } from "./timing.js";

export const SEARCH_ITEMS = 10_000;
const FILL_BATCH = 500;
const BATCH_GETS = 30;
const BATCH_PUTS = 15;
const BATCH_SEARCHES = 4;

/** Fills `namespace` with `count` items through batch(), FILL_BATCH puts per call. */
async function fill(store: BaseStore, namespace: string[], count: number): Promise<number> {
  const start = nowMs();
  for (let from = 0; from < count; from += FILL_BATCH) {
    const ops: Operation[] = [];
    for (let i = from; i < Math.min(count, from + FILL_BATCH); i++) {
      ops.push({ namespace, key: `item-${i}`, value: storeItem(i) });
    }
    await store.batch(ops);
  }
  return nowMs() - start;
}

export async function storeSection(ctx: BenchContext, name: string, store: BaseStore): Promise<void> {
  const tables = vsFloorTables(ctx, "store", name);
  const table = tables.latency;
  const iterations = ctx.iterations(2000);
  const floorKey = `${ctx.keyPrefix("store-floor")}:value`;
  const orders = ["bench", "orders"];
  const team = ["bench", "team"];

  ctx.progress.step(`filling a namespace with ${SEARCH_ITEMS.toLocaleString("en-US")} items`);
  const fillMs = await fill(store, orders, SEARCH_ITEMS);
  await fill(store, team, 100);
  table.notes.push(
    `Search namespace filled with ${SEARCH_ITEMS.toLocaleString("en-US")} items by ${SEARCH_ITEMS / FILL_BATCH} ` +
      `batch() calls of ${FILL_BATCH} puts: ${(fillMs / 1000).toFixed(2)} s ` +
      `(${Math.round((SEARCH_ITEMS / fillMs) * 1000).toLocaleString("en-US")} puts/s).`,
  );

  const itemBytes = jsonBytes(storeItem(7));
  const itemFloor = await floorOps(ctx.client, floorKey, itemBytes);
  await measureVsFloor(
    ctx,
    tables,
    {
      op: "get",
      bytes: itemBytes,
      floor: "GET same bytes",
      metric: "store.get",
      run: (i) => store.get(orders, `item-${i % SEARCH_ITEMS}`),
      runFloor: itemFloor.get,
    },
    iterations,
  );
  await measureVsFloor(
    ctx,
    tables,
    {
      op: "put (overwrite)",
      bytes: itemBytes,
      floor: "SET same bytes",
      metric: "store.put",
      run: (i) => store.put(team, `item-${i % 100}`, storeItem(i)),
      runFloor: itemFloor.set,
    },
    iterations,
  );

  // 1 item in 100 is "flagged": the filter selects 100 of 10,000; the page is the default limit of 10.
  const filter = { status: "flagged" };
  const found = await store.search(orders, { filter, limit: 10 });
  if (found.length !== 10) throw new Error(`${name}.search with a filter returned ${found.length} items, not 10`);
  const foundBytes = found.reduce((sum, item) => sum + jsonBytes(item.value), 0);
  const searchFloor = await floorOps(ctx.client, floorKey, foundBytes);
  await measureVsFloor(
    ctx,
    tables,
    {
      op: `search (filter, ${SEARCH_ITEMS.toLocaleString("en-US")} items, limit 10)`,
      bytes: foundBytes,
      floor: "GET same bytes",
      metric: "store.search",
      run: () => store.search(orders, { filter, limit: 10 }),
      runFloor: searchFloor.get,
      commandCalls: 5,
      cpuCalls: 10,
    },
    ctx.iterations(100),
  );

  const mixed = (i: number): Operation[] => {
    const ops: Operation[] = [];
    for (let k = 0; k < BATCH_GETS; k++) ops.push({ namespace: orders, key: `item-${(i * 50 + k) % SEARCH_ITEMS}` });
    for (let k = 0; k < BATCH_PUTS; k++) ops.push({ namespace: team, key: `item-${k}`, value: storeItem(i + k) });
    for (let k = 0; k < BATCH_SEARCHES; k++) {
      ops.push({ namespacePrefix: team, filter: { agent: `agent-${k}` }, limit: 5 });
    }
    ops.push({ matchConditions: [{ matchType: "prefix", path: ["bench"] }], limit: 10, offset: 0 });
    return ops;
  };
  const pipelineKeys = Array.from({ length: 50 }, (_, k) => `${floorKey}:${k}`);
  const itemValue = Buffer.alloc(itemBytes, 120);
  await Promise.all(pipelineKeys.map((key) => ctx.client.set(key, itemValue)));
  const rawPipeline = () => {
    const pipeline = ctx.client.pipeline();
    pipelineKeys.forEach((key, k) => {
      if (k < BATCH_GETS + BATCH_SEARCHES + 1) pipeline.getBuffer(key);
      else pipeline.set(key, itemValue);
    });
    return pipeline.exec();
  };
  await measureVsFloor(
    ctx,
    tables,
    {
      op: `batch of 50 (${BATCH_GETS} get, ${BATCH_PUTS} put, ${BATCH_SEARCHES} search, 1 listNamespaces)`,
      bytes: itemBytes * 50,
      floor: "pipeline of 50 GET/SET",
      metric: "store.batch50",
      run: (i) => store.batch(mixed(i)),
      runFloor: rawPipeline,
      commandCalls: 10,
      cpuCalls: 100,
    },
    ctx.iterations(500),
  );
  await ctx.client.unlink(floorKey, ...pipelineKeys);
  table.notes.push(
    `Items are JSON documents of about ${itemBytes} bytes; the filter ({ status: "flagged" }) matches 1 in 100.`,
    "The batch floor is one raw ioredis pipeline (one round trip) of 35 GETs and 15 SETs of item-sized values.",
  );
}

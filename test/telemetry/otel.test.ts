/**
 * OpenTelemetry with the real SDK (in-memory span exporter, on-demand metric reader, AsyncLocalStorage context):
 * spans for saver, store, cache, guarded and recovery operations with semantic-convention attributes, bytes and
 * outcomes (never values), and the metrics: operation durations, lock wait/hold, conflicts, fenced writes, lost
 * locks, lost leases, resumed runs, cache lookups.
 */
import { Annotation, END, type LangGraphRunnableConfig, MemorySaver, START, StateGraph } from "@langchain/langgraph";
import type { Histogram } from "@opentelemetry/sdk-metrics";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import {
  currentFence,
  type Fence,
  FencedWriteError,
  guarded,
  LockConflictError,
  RedisCache,
  RedisSaver,
  RedisStore,
  resumeCrashedRuns,
  startAuditSink,
  VersionConflictError,
  withRunLease,
} from "../../src/index.js";
import { fenceCounterKey } from "../../src/keys.js";
import { loadOtel } from "../../src/telemetry/otel.js";
import { newPool, testSchema } from "../audit/helpers.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { crashRun, testGraph, waitUntil } from "../recovery/helpers.js";
import { inputMetadata, makeCheckpoint } from "../saver/saver-helpers.js";
import { startSdk, type TestSdk } from "./sdk.js";

const SECRET = "secret-payload-9c1e";

let sdk: TestSdk;
beforeAll(async () => {
  sdk = startSdk();
  await loadOtel(); // operations never wait for the API to load; the tests start once it has
});
afterAll(async () => {
  await sdk.shutdown();
});
beforeEach(() => sdk.reset());

function named(name: string): ReadableSpan[] {
  return sdk.spans().filter((span) => span.name === name);
}

function expectNoValues(spans: readonly ReadableSpan[]): void {
  for (const span of spans) {
    for (const value of Object.values(span.attributes)) expect(String(value)).not.toContain(SECRET);
    expect(span.status.message ?? "").not.toContain(SECRET);
  }
}

async function counterValue(name: string, match: Record<string, unknown> = {}): Promise<number> {
  await sdk.collect();
  return sdk
    .points(name)
    .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
    .reduce((sum, p) => sum + (p.value as number), 0);
}

async function histogramCount(name: string, match: Record<string, unknown> = {}): Promise<number> {
  await sdk.collect();
  return sdk
    .points(name)
    .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
    .reduce((sum, p) => sum + (p.value as Histogram).count, 0);
}

describe.each(targets)("OpenTelemetry on $name", ({ connect }) => {
  it("traces saver operations with thread, bytes and outcome, and records their durations", async () => {
    const saver = new RedisSaver({ client: connect(), keyPrefix: testPrefix("otel") });
    const config = { configurable: { thread_id: "otel-thread", checkpoint_ns: "" } };
    const before = await histogramCount("db.client.operation.duration", { "db.operation.name": "RedisSaver.put" });
    const saved = await saver.put(config, makeCheckpoint({ secret: SECRET }), inputMetadata, { secret: 1 });
    await saver.putWrites(saved, [["secret", SECRET]], "task");
    await saver.getTuple(saved);
    for await (const _ of saver.list(config, { limit: 5 })) break;

    const [put] = named("RedisSaver.put");
    expect(put?.attributes).toMatchObject({
      "db.system.name": "redis",
      "db.operation.name": "RedisSaver.put",
      "langgraph_redis.thread_id": "otel-thread",
      "langgraph_redis.outcome": "ok",
    });
    expect(put?.attributes["langgraph_redis.bytes"]).toBeGreaterThan(SECRET.length);
    expect(put?.kind).toBe(2); // SpanKind.CLIENT
    expect(named("RedisSaver.putWrites")).toHaveLength(1);
    expect(named("RedisSaver.getTuple")[0]?.attributes["langgraph_redis.bytes"]).toBeGreaterThan(SECRET.length);
    // one read script, on a cluster too; a put is its script (plus the cross-thread index touch on a cluster)
    expect(named("RedisSaver.getTuple")[0]?.attributes["langgraph_redis.commands"]).toBe(1);
    expect(put?.attributes["langgraph_redis.commands"]).toBeGreaterThanOrEqual(1);
    expect(named("RedisSaver.list")).toHaveLength(1);
    expectNoValues(sdk.spans());
    expect(await histogramCount("db.client.operation.duration", { "db.operation.name": "RedisSaver.put" })).toBe(
      before + 1,
    );
  });

  it("names store operations, and counts version conflicts and fenced writes", async () => {
    const client = connect();
    const keyPrefix = testPrefix("otel");
    const store = new RedisStore({ client, keyPrefix });
    await store.put(["orders"], "42", { note: SECRET });
    await store.get(["orders"], "42");
    await store.search(["orders"]);
    const conflictsBefore = await counterValue("langgraph_redis.store.version_conflicts");
    await expect(store.putIfVersion(["orders"], "42", { note: "x" }, 7)).rejects.toThrow(VersionConflictError);
    const counter = fenceCounterKey(keyPrefix, "order:42");
    const stale: Fence = { lockKey: "order:42", token: await client.incr(counter) };
    await client.incr(counter);
    const fencedBefore = await counterValue("langgraph_redis.store.fenced_writes");
    await expect(store.put(["orders"], "42", { note: "late" }, { fence: stale })).rejects.toThrow(FencedWriteError);

    expect(named("RedisStore.put")[0]?.attributes).toMatchObject({ "langgraph_redis.namespace": "orders" });
    expect(named("RedisStore.get")[0]?.attributes).toMatchObject({ "langgraph_redis.batch.size": 1 });
    expect(named("RedisStore.search")).toHaveLength(1);
    const [conflict] = named("RedisStore.putIfVersion");
    expect(conflict?.attributes).toMatchObject({
      "langgraph_redis.outcome": "conflict",
      "error.type": "VersionConflictError",
    });
    expect(conflict?.status.code).toBe(2); // SpanStatusCode.ERROR
    expect(named("RedisStore.put").at(-1)?.attributes["langgraph_redis.outcome"]).toBe("fenced");
    expect(await counterValue("langgraph_redis.store.version_conflicts")).toBe(conflictsBefore + 1);
    expect(await counterValue("langgraph_redis.store.fenced_writes")).toBe(fencedBefore + 1);
    expectNoValues(sdk.spans());
  });

  it("records lock wait, hold and conflicts; a guarded node's store writes are children of its span", async () => {
    const client = connect();
    const keyPrefix = testPrefix("otel");
    const store = new RedisStore({ client, keyPrefix });
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const State = Annotation.Root({ orderId: Annotation<string> });
    const charge = guarded(
      async (state: typeof State.State, config: LangGraphRunnableConfig) => {
        await store.put(
          ["orders"],
          state.orderId,
          { charged: true },
          { fence: currentFence(config, `order:${state.orderId}`) },
        );
        await held;
        return {};
      },
      { client, keyPrefix, key: (state) => `order:${state.orderId}`, onConflict: "fail" },
    );
    const graph = new StateGraph(State).addNode("charge", charge).addEdge(START, "charge").addEdge("charge", END);
    const app = graph.compile();
    const waitsBefore = await histogramCount("langgraph_redis.lock.wait.duration");
    const holdsBefore = await histogramCount("langgraph_redis.lock.hold.duration");
    const conflictsBefore = await counterValue("langgraph_redis.lock.conflicts");

    const first = app.invoke({ orderId: "7" });
    await waitUntil(() => named("RedisStore.put").length > 0);
    await expect(app.invoke({ orderId: "7" })).rejects.toThrow(LockConflictError);
    release();
    await first;

    expect(await histogramCount("langgraph_redis.lock.wait.duration")).toBe(waitsBefore + 1);
    expect(await histogramCount("langgraph_redis.lock.hold.duration")).toBe(holdsBefore + 1);
    expect(await counterValue("langgraph_redis.lock.conflicts")).toBe(conflictsBefore + 1);
    const guardedSpans = named("guarded");
    expect(guardedSpans.map((s) => s.attributes["langgraph_redis.outcome"]).sort()).toEqual(["error", "ok"]);
    const parent = guardedSpans.find((s) => s.attributes["langgraph_redis.outcome"] === "ok");
    const [put] = named("RedisStore.put");
    expect(put?.parentSpanContext?.spanId).toBe(parent?.spanContext().spanId);
  });

  it("counts leases lost and runs resumed, and traces the resume", async () => {
    const client = connect();
    const keyPrefix = testPrefix("otel");
    const checkpointer = new MemorySaver();
    const lostBefore = await counterValue("langgraph_redis.recovery.leases_lost");
    const resumedBefore = await counterValue("langgraph_redis.recovery.runs_resumed");
    await crashRun({ checkpointer, keyPrefix, name: "g", threadId: "t1", leaseMs: 300, connect, blockAt: "b1" });
    const recoverer = withRunLease(testGraph({ checkpointer }), { client, keyPrefix, name: "g", leaseMs: 2_000 });
    let report = await resumeCrashedRuns(recoverer);
    await waitUntil(async () => {
      if (report.resumed === 0) report = await resumeCrashedRuns(recoverer);
      return report.resumed === 1;
    });
    expect(await counterValue("langgraph_redis.recovery.leases_lost")).toBe(lostBefore + 1);
    expect(await counterValue("langgraph_redis.recovery.runs_resumed")).toBe(resumedBefore + 1);
    expect(named("recovery.resumeCrashedRuns").at(-1)?.kind).toBe(0); // SpanKind.INTERNAL
  });

  it("counts cache hits and misses", async () => {
    const cache = new RedisCache({ client: connect(), keyPrefix: testPrefix("otel") });
    const hitsBefore = await counterValue("langgraph_redis.cache.lookups", { "langgraph_redis.outcome": "hit" });
    const missesBefore = await counterValue("langgraph_redis.cache.lookups", { "langgraph_redis.outcome": "miss" });
    await cache.set([{ key: [["ns"], "a"], value: SECRET }]);
    await cache.get([
      [["ns"], "a"],
      [["ns"], "b"],
    ]);
    expect(await counterValue("langgraph_redis.cache.lookups", { "langgraph_redis.outcome": "hit" })).toBe(
      hitsBefore + 1,
    );
    expect(await counterValue("langgraph_redis.cache.lookups", { "langgraph_redis.outcome": "miss" })).toBe(
      missesBefore + 1,
    );
    expect(named("RedisCache.set")[0]?.attributes["langgraph_redis.namespace"]).toBe("ns");
    expectNoValues(sdk.spans());
  });
});

describe("OpenTelemetry and the audit sink", () => {
  it("records the sink's delivery lag and delivered events", async () => {
    const client = (targets[0] as (typeof targets)[number]).connect();
    const keyPrefix = testPrefix("otelaudit");
    const pool = newPool();
    const schema = testSchema(pool);
    const store = new RedisStore({ client, keyPrefix, audit: true });
    const sink = startAuditSink({ client, postgres: pool, keyPrefix, schema, pollIntervalMs: 10 });
    try {
      await sink.ready;
      const lagBefore = await histogramCount("langgraph_redis.audit.lag");
      const deliveredBefore = await counterValue("langgraph_redis.audit.delivered");
      for (let i = 0; i < 3; i++) await store.put(["orders"], `o${i}`, { status: "paid" });
      await sink.flush();
      expect(await histogramCount("langgraph_redis.audit.lag")).toBe(lagBefore + 3);
      expect(await counterValue("langgraph_redis.audit.delivered")).toBe(deliveredBefore + 3);
    } finally {
      await sink.stop();
    }
  });
});

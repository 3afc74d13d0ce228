/**
 * Telemetry follows the global providers as they come and go: with none registered an operation makes no span and
 * records nothing (it runs untouched); a tracer provider registered after the saver was built and used is seen by
 * the next call; trace.disable() and a new provider switch to the new one; a meter provider on its own still gets
 * every operation's duration.
 */
import { metrics, trace } from "@opentelemetry/api";
import { type DataPoint, type Histogram, MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { RedisSaver } from "../../src/index.js";
import { loadOtel } from "../../src/telemetry/otel.js";
import { newRedis, testPrefix } from "../helpers/redis.js";
import { inputMetadata, makeCheckpoint } from "../saver/saver-helpers.js";

class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

function tracing(): { exporter: InMemorySpanExporter; provider: BasicTracerProvider } {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(provider);
  return { exporter, provider };
}

async function putDurations(reader: MetricReader): Promise<number> {
  const { resourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .find((m) => m.descriptor.name === "db.client.operation.duration");
  return ((metric?.dataPoints ?? []) as DataPoint<Histogram>[])
    .filter((p) => p.attributes["db.operation.name"] === "RedisSaver.put")
    .reduce((sum, p) => sum + p.value.count, 0);
}

beforeAll(async () => {
  await loadOtel();
});
afterEach(() => {
  trace.disable();
  metrics.disable();
});

describe("telemetry with providers registered later", () => {
  it("traces once a tracer provider is registered, and follows a replaced one", async () => {
    const saver = new RedisSaver({ client: newRedis(), keyPrefix: testPrefix("otel-late") });
    const config = { configurable: { thread_id: "late", checkpoint_ns: "" } };
    // No provider: the operation runs as it is.
    let saved = await saver.put(config, makeCheckpoint({ n: 1 }), inputMetadata, { n: 1 });

    const first = tracing();
    saved = await saver.put(saved, makeCheckpoint({ n: 2 }), inputMetadata, { n: 2 });
    await saver.getTuple(saved);
    expect(first.exporter.getFinishedSpans().map((span) => span.name)).toEqual([
      "RedisSaver.put",
      "RedisSaver.getTuple",
    ]);
    expect(first.exporter.getFinishedSpans()[0]?.attributes["langgraph_redis.thread_id"]).toBe("late");

    trace.disable();
    await saver.put(saved, makeCheckpoint({ n: 3 }), inputMetadata, { n: 3 });
    const second = tracing();
    await saver.put(saved, makeCheckpoint({ n: 4 }), inputMetadata, { n: 4 });
    expect(first.exporter.getFinishedSpans()).toHaveLength(2);
    expect(second.exporter.getFinishedSpans().map((span) => span.name)).toEqual(["RedisSaver.put"]);
    await Promise.all([first.provider.shutdown(), second.provider.shutdown()]);
  });

  it("records durations with a meter provider and no tracer provider", async () => {
    const saver = new RedisSaver({ client: newRedis(), keyPrefix: testPrefix("otel-late") });
    const config = { configurable: { thread_id: "metered", checkpoint_ns: "" } };
    const reader = new OnDemandReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    metrics.setGlobalMeterProvider(meterProvider);
    await saver.put(config, makeCheckpoint({ n: 1 }), inputMetadata, { n: 1 });
    expect(await putDurations(reader)).toBe(1);
    metrics.disable();
    await saver.put(config, makeCheckpoint({ n: 2 }), inputMetadata, { n: 2 });
    expect(await putDurations(reader)).toBe(1);
    await meterProvider.shutdown();
  });
});

/**
 * Telemetry hooks, in one place: `traced` wraps a public operation in a span and records its duration; `noteBytes`
 * adds to the bytes of the operation in progress; `countEvent` and `recordDuration` feed the lock, fencing and
 * recovery metrics. Every hook is a no-op unless `@opentelemetry/api` is installed (see otel.ts). Attributes carry
 * ids, sizes and outcomes, never stored values.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { FencedWriteError, VersionConflictError } from "../errors.js";
import { ATTR, type METRIC } from "./names.js";
import {
  type Attributes,
  activeTracer,
  currentInstruments,
  liveInstruments,
  loadOtel,
  type OtelApi,
  otelApi,
} from "./otel.js";

interface Scope {
  bytes: number;
  commands: number;
}

/** The operation in progress, for noteBytes (a nested operation counts its own bytes). */
const current = new AsyncLocalStorage<Scope>();

/** Starts loading the API (classes call it when constructed, so the first operation rarely has to wait). */
export function initTelemetry(): void {
  void loadOtel();
}

/**
 * The API if it has loaded. An operation never waits for it: until the import settles (classes start it when
 * constructed) operations run untraced, so telemetry cannot change when an operation's first command is sent.
 */
function ready(): OtelApi | null {
  const loaded = otelApi();
  if (loaded === undefined) void loadOtel();
  return loaded ?? null;
}

/** Adds `bytes` (written or read) to the traced operation in progress, if any. */
export function noteBytes(bytes: number): void {
  const scope = current.getStore();
  if (scope !== undefined) scope.bytes += bytes;
}

/** Counts one Redis command sent by the traced operation in progress, if any. */
export function noteCommand(): void {
  const scope = current.getStore();
  if (scope !== undefined) scope.commands += 1;
}

function outcomeOf(error: unknown): string {
  if (error instanceof FencedWriteError) return "fenced";
  if (error instanceof VersionConflictError) return "conflict";
  return "error";
}

/** One traced operation in progress: its span, its scope (bytes) and its start time. */
interface Operation {
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Ends the operation; `failure` holds what it threw, if it failed. */
  finish(failure?: { error: unknown }): void;
}

/** CLIENT for operations that talk to Redis; INTERNAL for those that wrap other work (a guarded node, a resume). */
export type OperationKind = "client" | "internal";

/** A span's attributes, or a function building them (called only when a span is made). */
export type OperationAttributes = Attributes | (() => Attributes);

/**
 * Starts the operation `operation` (e.g. "RedisSaver.put"): a span with its attributes, a child of the active span
 * (when the application registered a context manager), and active itself while the operation runs, so operations
 * inside it (a guarded node's store writes, a resumed run's checkpoints) become its children. Undefined without
 * the API, and when neither a tracer provider nor a meter provider is registered (nothing would record the
 * operation, so it runs as it is: no span, no clock, no attributes built).
 */
function begin(operation: string, attributes: OperationAttributes, kind: OperationKind): Operation | undefined {
  const loaded = ready();
  if (loaded === null) return undefined;
  const tracer = activeTracer(loaded);
  if (tracer === undefined && liveInstruments(loaded) === undefined) return undefined;
  const span = tracer?.startSpan(operation, {
    kind: kind === "client" ? loaded.SpanKind.CLIENT : loaded.SpanKind.INTERNAL,
    attributes: {
      [ATTR.dbSystem]: "redis",
      [ATTR.operation]: operation,
      ...(typeof attributes === "function" ? attributes() : attributes),
    },
  });
  const scope: Scope = { bytes: 0, commands: 0 };
  const started = performance.now();
  // A span nobody records (no tracer registered, or not sampled) needs no active context and no byte counting: the
  // operation runs as it is (its duration metric is still recorded), which spares every call the context switch.
  const recording = span !== undefined && (span.isRecording?.() ?? true);
  const active = recording ? loaded.trace.setSpan(loaded.context.active(), span) : undefined;
  return {
    run: (fn) => (recording ? loaded.context.with(active, () => current.run(scope, fn)) : fn()),
    finish(failure) {
      const error = failure?.error;
      const outcome = failure ? outcomeOf(error) : "ok";
      const errorType = failure ? (error instanceof Error ? error.name : typeof error) : undefined;
      const instruments = currentInstruments(loaded);
      if (span !== undefined) {
        if (errorType !== undefined) {
          span.setStatus({ code: loaded.SpanStatusCode.ERROR, message: errorType });
          span.setAttribute(ATTR.errorType, errorType);
        }
        span.setAttribute(ATTR.outcome, outcome);
        if (scope.bytes > 0) span.setAttribute(ATTR.bytes, scope.bytes);
        if (scope.commands > 0) span.setAttribute(ATTR.commands, scope.commands);
        span.end();
      }
      if (outcome === "fenced") instruments.fencedWrites.add?.(1, { [ATTR.operation]: operation });
      if (outcome === "conflict") instruments.versionConflicts.add?.(1, { [ATTR.operation]: operation });
      instruments.operationDuration.record?.((performance.now() - started) / 1000, {
        [ATTR.dbSystem]: "redis",
        [ATTR.operation]: operation,
        [ATTR.outcome]: outcome,
        ...(errorType === undefined ? {} : { [ATTR.errorType]: errorType }),
      });
    },
  };
}

/**
 * Runs `fn` as one traced operation: a span with the bytes noted while it ran, its outcome (ok, error, fenced,
 * conflict) and error.type; and one db.client.operation.duration sample.
 */
export function traced<T>(
  operation: string,
  attributes: OperationAttributes,
  fn: () => Promise<T>,
  kind: OperationKind = "client",
): Promise<T> {
  const op = begin(operation, attributes, kind);
  if (op === undefined) {
    try {
      return fn();
    } catch (error) {
      return Promise.reject(error);
    }
  }
  return runTraced(op, fn);
}

async function runTraced<T>(op: Operation, fn: () => Promise<T>): Promise<T> {
  try {
    const result = await op.run(fn);
    op.finish();
    return result;
  } catch (error) {
    op.finish({ error });
    throw error;
  }
}

/** An async generator traced as one operation, from the first pull until it ends, fails or the caller stops. */
export async function* tracedGenerator<T>(
  operation: string,
  attributes: OperationAttributes,
  source: () => AsyncGenerator<T>,
): AsyncGenerator<T> {
  const op = begin(operation, attributes, "client");
  if (op === undefined) {
    yield* source();
    return;
  }
  const iterator = await op.run(async () => source());
  let finished = false;
  try {
    for (;;) {
      const next = await op.run(() => iterator.next());
      if (next.done) break;
      yield next.value;
    }
    finished = true;
    op.finish();
  } catch (error) {
    finished = true;
    op.finish({ error });
    throw error;
  } finally {
    // The caller stopped early (break, return): the source is closed and the operation ends there, successfully.
    if (!finished) {
      await iterator.return(undefined);
      op.finish();
    }
  }
}

type CounterName =
  | "lockConflicts"
  | "lockLost"
  | "leasesLost"
  | "runsResumed"
  | "cacheLookups"
  | "auditDelivered"
  | "auditDuplicates"
  | "offlineTransitions"
  | "offlineJournaled"
  | "offlineReplayed";
type HistogramName = "lockWait" | "lockHold" | "auditLag";

/** Adds to one of the event counters (no-op without the API, or before it is loaded). */
export function countEvent(name: CounterName & keyof typeof METRIC, attributes: Attributes = {}, value = 1): void {
  const loaded = otelApi();
  if (loaded) currentInstruments(loaded)[name].add?.(value, attributes);
  else if (loaded === undefined) void loadOtel();
}

/** Records a duration (ms, converted to the metric's seconds) on one of the duration histograms. */
export function recordDuration(name: HistogramName, ms: number, attributes: Attributes = {}): void {
  const loaded = otelApi();
  if (loaded) currentInstruments(loaded)[name].record?.(ms / 1000, attributes);
  else if (loaded === undefined) void loadOtel();
}

/** Span attributes naming a thread (saver operations). */
export function threadAttributes(config: { configurable?: Record<string, unknown> } | undefined): Attributes {
  const threadId = config?.configurable?.thread_id;
  return typeof threadId === "string" || typeof threadId === "number" ? { [ATTR.threadId]: String(threadId) } : {};
}

/** Span attributes naming a store or cache namespace (labels joined by ".", which labels cannot contain). */
export function namespaceAttributes(namespace: readonly unknown[] | undefined): Attributes {
  return Array.isArray(namespace) ? { [ATTR.namespace]: namespace.map(String).join(".") } : {};
}

/** Whether a traced operation is in progress (so callers can skip measuring bytes nobody records). */
export function measuringBytes(): boolean {
  return current.getStore() !== undefined;
}

/** Bytes of what a Redis call sends or returns: Buffers and strings, nested arrays summed. */
export function payloadBytes(value: unknown): number {
  if (Buffer.isBuffer(value)) return value.length;
  if (typeof value === "string") return Buffer.byteLength(value);
  if (Array.isArray(value)) {
    let total = 0;
    for (const item of value) total += payloadBytes(item);
    return total;
  }
  return 0;
}

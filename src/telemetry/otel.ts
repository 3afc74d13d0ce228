/**
 * The optional link to OpenTelemetry. `@opentelemetry/api` is an optional peer dependency: it is loaded once with a
 * guarded dynamic import, and when it is not installed every hook here is a no-op. With the API installed but no
 * SDK registered, the API's own no-op tracer and meter make it cost next to nothing.
 *
 * Only the few API members used are typed here (structurally), so the library's types never need the package.
 */
import { log } from "../log.js";
import { INSTRUMENTATION_SCOPE, METRIC } from "./names.js";

type Attributes = Record<string, string | number | boolean>;

export interface OtelSpan {
  setAttribute(key: string, value: string | number | boolean): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  end(): void;
  /** False for the API's no-op span (no SDK registered, or the span was not sampled). */
  isRecording?(): boolean;
}

export interface OtelTracer {
  startSpan(name: string, options?: { kind?: number; attributes?: Attributes }): OtelSpan;
}

/** The global tracer provider: the API's proxy, which hands out the registered SDK's tracers once there is one. */
interface OtelTracerProvider {
  getTracer(name: string): OtelTracer;
  /** The proxy's: the registered provider, or the API's no-op provider while none is. */
  getDelegate?(): unknown;
  /** The proxy's: a tracer of the registered provider, undefined while none is registered. */
  getDelegateTracer?(name: string): OtelTracer | undefined;
}

interface OtelApi {
  trace: {
    getTracer(name: string): OtelTracer;
    getTracerProvider(): OtelTracerProvider;
    setSpan(context: unknown, span: OtelSpan): unknown;
  };
  context: {
    active(): unknown;
    with<T>(context: unknown, fn: () => T): T;
  };
  metrics: {
    getMeterProvider(): unknown;
    getMeter(name: string): OtelMeter;
  };
  /** The API's no-op meter (what the global meter provider hands out while no SDK is registered). */
  createNoopMeter?(): unknown;
  SpanKind: { CLIENT: number; INTERNAL: number };
  SpanStatusCode: { ERROR: number; OK: number };
}

interface OtelMeter {
  createHistogram(name: string, options?: { unit?: string; description?: string }): Instrument;
  createCounter(name: string, options?: { unit?: string; description?: string }): Instrument;
}

interface Instrument {
  record?(value: number, attributes?: Attributes): void;
  add?(value: number, attributes?: Attributes): void;
}

export type Instruments = Record<keyof typeof METRIC, Instrument>;

/** The module name, in a variable so that bundlers and the compiler leave the optional import alone. */
const API_MODULE = "@opentelemetry/api";

let api: OtelApi | null | undefined;
let loading: Promise<void> | undefined;

/** Loads the API once; resolves (never rejects) whether or not it is installed. */
export function loadOtel(): Promise<void> {
  loading ??= (import(API_MODULE) as Promise<OtelApi & { default?: OtelApi }>).then(
    (module) => {
      api = module.trace ? module : (module.default ?? null);
    },
    () => {
      api = null;
      log("telemetry: @opentelemetry/api is not installed; no spans or metrics");
    },
  );
  return loading;
}

/** The API once loaded; undefined before loadOtel() settles, null when it is not installed. */
export function otelApi(): OtelApi | null | undefined {
  return api;
}

let instruments: Instruments | undefined;
let instrumentsProvider: unknown;
/** Whether `instruments` come from the API's no-op meter (no meter provider registered). */
let instrumentsNoop = false;

/**
 * The instruments of the current global meter provider. Re-created when the provider changes (the metrics API has
 * no proxy: a meter taken before an SDK registers would stay a no-op for ever).
 */
export function currentInstruments(loaded: OtelApi): Instruments {
  const provider = loaded.metrics.getMeterProvider();
  if (instruments !== undefined && provider === instrumentsProvider) return instruments;
  const meter = loaded.metrics.getMeter(INSTRUMENTATION_SCOPE);
  instrumentsNoop = meter === loaded.createNoopMeter?.();
  const seconds = (name: string, description: string) => meter.createHistogram(name, { unit: "s", description });
  const count = (name: string, description: string) => meter.createCounter(name, { description });
  instruments = {
    operationDuration: seconds(METRIC.operationDuration, "Duration of langgraph-redis operations"),
    lockWait: seconds(METRIC.lockWait, "Time a guarded node waited for its locks"),
    lockHold: seconds(METRIC.lockHold, "Time a guarded node held its locks"),
    lockConflicts: count(METRIC.lockConflicts, "Lock acquisitions that found the lock held"),
    lockLost: count(METRIC.lockLost, "Locks lost while a guarded node ran"),
    fencedWrites: count(METRIC.fencedWrites, "Store writes refused for a stale fencing token"),
    versionConflicts: count(METRIC.versionConflicts, "Compare-and-set writes that found another version"),
    leasesLost: count(METRIC.leasesLost, "Runs that lost their lease while running"),
    runsResumed: count(METRIC.runsResumed, "Crashed runs resumed to completion"),
    cacheLookups: count(METRIC.cacheLookups, "Node cache lookups"),
    auditLag: seconds(METRIC.auditLag, "Audit events: time from the write in Redis to the commit in PostgreSQL"),
    auditDelivered: count(METRIC.auditDelivered, "Audit events inserted into PostgreSQL"),
    auditDuplicates: count(METRIC.auditDuplicates, "Audit events read again that PostgreSQL already held"),
    offlineTransitions: count(METRIC.offlineTransitions, "Switches between online and offline (offline journal)"),
    offlineJournaled: count(METRIC.offlineJournaled, "Writes stored in the offline journal"),
    offlineReplayed: count(METRIC.offlineReplayed, "Offline journal records replayed into Redis, by outcome"),
  };
  instrumentsProvider = provider;
  return instruments;
}

/** The instruments of the current global meter provider, or undefined while none is registered (they would be no-ops). */
export function liveInstruments(loaded: OtelApi): Instruments | undefined {
  const current = currentInstruments(loaded);
  return instrumentsNoop ? undefined : current;
}

let tracerProvider: unknown;
let tracerDelegate: unknown;
let tracer: OtelTracer | undefined;

/**
 * The library's tracer from the current global tracer provider, or undefined while no SDK is registered (its spans
 * would be the API's no-op spans). Taken once per provider: the global proxy keeps its identity when an SDK
 * registers (its delegate changes), and `trace.disable()` replaces the proxy, so both are compared on each call.
 */
export function activeTracer(loaded: OtelApi): OtelTracer | undefined {
  const provider = loaded.trace.getTracerProvider();
  const delegate = provider.getDelegate?.();
  if (provider !== tracerProvider || delegate !== tracerDelegate) {
    tracer =
      typeof provider.getDelegateTracer === "function"
        ? provider.getDelegateTracer(INSTRUMENTATION_SCOPE)
        : provider.getTracer(INSTRUMENTATION_SCOPE);
    tracerProvider = provider;
    tracerDelegate = delegate;
  }
  return tracer;
}

export type { Attributes, OtelApi };

import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { type AuditOutbox, auditOptionSchema, createAuditOutbox } from "../audit/outbox.js";
import type { RedisClient } from "../client.js";
import type { LockLostError } from "../errors.js";
import type { Fence } from "../fencing.js";
import { clientSchema, durationMsSchema, keyPrefixSchema, parseOptions } from "../options.js";

/** Which resource(s) a guarded node locks: one lock name or several, possibly computed from the state. */
export type LockKeyOption<State> =
  | string
  | readonly string[]
  | ((
      state: State,
      config: LangGraphRunnableConfig,
    ) => string | readonly string[] | Promise<string | readonly string[]>);

/** What a conflict handler sees when a lock it needs is held by another agent. */
export interface ConflictContext<State> {
  /** Every lock name the node needs, sorted (the order they are taken in). */
  readonly lockKeys: readonly string[];
  /** The lock name that was found held. */
  readonly conflictKey: string;
  /** 1 on the first conflict of this call, then 2, 3, ... on each retry that conflicts again. */
  readonly attempt: number;
  /** Milliseconds since this call started trying to take its locks. */
  readonly waitedMs: number;
  readonly state: State;
  readonly config: LangGraphRunnableConfig;
}

/**
 * What a conflict handler decides:
 * - `{ action: "retry", afterMs }`: try again after `afterMs` (bounded by `acquireTimeoutMs` overall);
 * - `{ action: "skip", result }`: do not run the node; `result` (a state update, or a `Command` that routes
 *   elsewhere) is returned as the node's result;
 * - `{ action: "fail" }`: throw `LockConflictError`. A handler may also throw an error of its own.
 */
export type ConflictDecision<Out> =
  | { readonly action: "retry"; readonly afterMs: number }
  | { readonly action: "skip"; readonly result: Out }
  | { readonly action: "fail" };

export type ConflictHandler<State, Out> = (
  context: ConflictContext<State>,
) => ConflictDecision<Out> | Promise<ConflictDecision<Out>>;

export interface LockAcquiredEvent {
  readonly lockKeys: readonly string[];
  /** One fence per lock name, in `lockKeys` order. */
  readonly fences: readonly Fence[];
  /** The token of the first (with one key: the only) lock name. */
  readonly token: number;
  /** Milliseconds spent taking the locks (0 when they were free, apart from the round trips). */
  readonly waitedMs: number;
  /** How many rounds of acquisition it took (1 when nothing was in the way). */
  readonly attempts: number;
}

export interface LockConflictEvent {
  readonly lockKeys: readonly string[];
  readonly conflictKey: string;
  readonly attempt: number;
  readonly waitedMs: number;
  /** The policy that handles this conflict. */
  readonly onConflict: "wait" | "fail" | "handler";
}

export interface LockLostEvent {
  readonly lockKeys: readonly string[];
  readonly error: LockLostError;
  /** Milliseconds from acquisition to the moment the loss was noticed. */
  readonly heldMs: number;
}

export interface LockReleasedEvent {
  readonly lockKeys: readonly string[];
  /** Milliseconds from acquisition to release. */
  readonly heldMs: number;
  /** How the node ended: returned, threw (including a graph interrupt), or lost its lock. */
  readonly outcome: "returned" | "threw" | "lost";
}

/** Callbacks for metrics and logs. They run synchronously; whatever they throw is caught and ignored. */
export interface GuardEvents {
  onAcquired?: (event: LockAcquiredEvent) => void;
  onConflict?: (event: LockConflictEvent) => void;
  onLost?: (event: LockLostEvent) => void;
  onReleased?: (event: LockReleasedEvent) => void;
}

const isFunction = (value: unknown) => typeof value === "function";
const callback = z.custom<(event: never) => void>(isFunction, { message: "a function" }).optional();

const lockNameSchema = z.string().min(1, "a non-empty lock name");

/** Options of `guarded(node, options)`; the defaults here are the documented ones (docs/guarded.md). */
export const guardedOptionsSchema = z
  .strictObject({
    /** The ioredis client (Redis or Cluster). Never closed by the library. */
    client: clientSchema,
    /** Lock name(s), or a function of (state, config). Default: `thread:<thread_id>`. */
    key: z
      .union([
        lockNameSchema,
        z.array(lockNameSchema).min(1, "at least one lock name"),
        z.custom<(...args: never[]) => unknown>(isFunction),
      ])
      .optional(),
    /** Prefix of every key; must equal RedisStore's `keyPrefix` for fenced writes to be checked. */
    keyPrefix: keyPrefixSchema,
    /** How long a lock lives without a refresh (what a crashed holder costs the next one). */
    lockTimeoutMs: durationMsSchema.default(10_000),
    /** How often a held lock is refreshed. Default: a third of `lockTimeoutMs`. */
    refreshIntervalMs: durationMsSchema.optional(),
    /** How long to wait for the locks in total before `LockConflictError` ("wait", and handler retries). */
    acquireTimeoutMs: durationMsSchema.default(30_000),
    /** Pause between two attempts while waiting for a held lock. */
    retryIntervalMs: durationMsSchema.default(25),
    /** How long a fence counter outlives its last acquisition. */
    fenceTtlMs: durationMsSchema.default(7 * 24 * 3600 * 1000),
    /** "wait" (default), "fail", or a handler that decides. */
    onConflict: z
      .union([z.literal("wait"), z.literal("fail"), z.custom<(...args: never[]) => unknown>(isFunction)])
      .default("wait"),
    /** Redis unreachable when the lock is to be taken (docs/offline.md): "wait" (default) retries for offlineWaitMs,
     * then fails with OfflineLockError; "proceed" runs the node without the lock (no mutual exclusion, no fence). */
    offline: z.union([z.literal("wait"), z.literal("proceed")]).default("wait"),
    /** How long "wait" keeps trying to reach Redis for the lock, in ms. */
    offlineWaitMs: durationMsSchema.default(5000),
    /** Audit trail (docs/audit.md): lock acquired (with its fencing token), released and lost. Default off. */
    audit: auditOptionSchema.optional(),
    events: z
      .strictObject({
        onAcquired: callback,
        onConflict: callback,
        onLost: callback,
        onReleased: callback,
      })
      .default({}),
  })
  .superRefine((options, ctx) => {
    if (options.refreshIntervalMs !== undefined && options.refreshIntervalMs >= options.lockTimeoutMs) {
      ctx.addIssue({
        code: "custom",
        path: ["refreshIntervalMs"],
        message: `a number of ms below lockTimeoutMs (${options.lockTimeoutMs})`,
        input: options.refreshIntervalMs,
      });
    }
  });

type SchemaInput = z.input<typeof guardedOptionsSchema>;

/** Options of `guarded()`. Everything but `client` has a default. */
export type GuardedOptions<State, Out> = Omit<SchemaInput, "client" | "key" | "onConflict" | "events"> & {
  client: RedisClient;
  key?: LockKeyOption<State>;
  onConflict?: "wait" | "fail" | ConflictHandler<State, Out>;
  events?: GuardEvents;
};

/** Options after validation, with every default applied. */
export interface ResolvedGuardOptions<State, Out> {
  readonly client: RedisClient;
  readonly key: LockKeyOption<State> | undefined;
  readonly keyPrefix: string;
  readonly lockTimeoutMs: number;
  readonly refreshIntervalMs: number;
  readonly acquireTimeoutMs: number;
  readonly retryIntervalMs: number;
  readonly fenceTtlMs: number;
  readonly onConflict: "wait" | "fail" | ConflictHandler<State, Out>;
  readonly offline: "wait" | "proceed";
  readonly offlineWaitMs: number;
  readonly events: GuardEvents;
  readonly audit: AuditOutbox | undefined;
}

export function parseGuardedOptions<State, Out>(input: GuardedOptions<State, Out>): ResolvedGuardOptions<State, Out> {
  const parsed = parseOptions(guardedOptionsSchema, input, "guarded");
  return {
    ...parsed,
    client: parsed.client,
    key: parsed.key as LockKeyOption<State> | undefined,
    onConflict: parsed.onConflict as ResolvedGuardOptions<State, Out>["onConflict"],
    events: parsed.events as GuardEvents,
    refreshIntervalMs: parsed.refreshIntervalMs ?? Math.max(1, Math.round(parsed.lockTimeoutMs / 3)),
    audit: createAuditOutbox(parsed.client, parsed.keyPrefix, parsed.audit),
  };
}

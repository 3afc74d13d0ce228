import { randomBytes } from "node:crypto";
import type { Fence } from "../../fencing.js";
import { fenceCounterKey, storeItemKeys, storeNamespaceKeys } from "../../keys.js";
import { queueScript, type ScriptArg } from "../../scripts/index.js";
import { encodeWriter } from "../codec.js";
import { PURGE_LIMIT, RETIRED_GRACE_MS, type StoreContext } from "../context.js";
import type { RoutedCall } from "../route.js";

/** One write, serialised and checked, ready for the storePut script. */
export interface PreparedWrite {
  readonly namespace: readonly string[];
  readonly key: string;
  /** Registry member of the namespace. */
  readonly member: string;
  readonly op: "put" | "delete";
  readonly json: string;
  /** The item's float32 vectors; null = none. */
  vectors: Buffer | null;
  /** Fields to embed (already resolved from the op's `index` and the store's index config). */
  readonly embedFields: readonly string[];
  readonly ttlMs: number | null;
  readonly writer: string | null;
  /** undefined: unconditional; null or 0: must not exist; n: must be at version n. */
  readonly expectedVersion: number | null | undefined;
  readonly fence: Fence | undefined;
}

export type PutOutcome =
  | { kind: "written"; version: number; createdAt: number; updatedAt: number; retiredEpoch: number }
  | { kind: "register" }
  | { kind: "conflict"; actual: number }
  | { kind: "fenced"; newest: number }
  | { kind: "fence-unknown" }
  | { kind: "fence-not-issued"; newest: number }
  | { kind: "corrupt" };

export function putCall(ctx: StoreContext, write: PreparedWrite, confirmEpoch?: number): RoutedCall {
  const k = storeNamespaceKeys(ctx.prefix, write.namespace);
  const item = storeItemKeys(ctx.prefix, write.namespace, write.key);
  const keys = [k.items, k.order, k.expiry, k.vectors, k.state, item.history, item.fenceMarks];
  if (!ctx.cluster) {
    keys.push(write.fence ? fenceCounterKey(ctx.prefix, write.fence.lockKey) : k.items);
    keys.push(ctx.registry.names, ctx.registry.seq, ctx.registry.clock);
  }
  const args: ScriptArg[] = [
    write.key,
    write.op,
    write.json,
    write.vectors ?? "",
    write.ttlMs ?? "",
    encodeWriter(write.writer),
    write.expectedVersion === undefined ? "" : (write.expectedVersion ?? 0),
    write.fence?.lockKey ?? "",
    write.fence?.token ?? 0,
    ctx.options.historyLimit,
    write.member,
    confirmEpoch ?? "",
    PURGE_LIMIT,
    RETIRED_GRACE_MS,
    // one id per call: a resend of this very command (lost reply) is recognised and not applied twice
    randomBytes(8).toString("hex"),
  ];
  return { key: k.items, queue: (p) => queueScript(p, "storePut", keys, args) };
}

export function parsePutReply(reply: unknown): PutOutcome {
  const [code, a = 0, b = 0, c = 0, d = 0] = (reply as number[]).map(Number);
  switch (code) {
    case 1:
      return { kind: "written", version: a, createdAt: b, updatedAt: c, retiredEpoch: d };
    case 2:
      return { kind: "register" };
    case -1:
      return { kind: "conflict", actual: a };
    case -2:
      return { kind: "fenced", newest: a };
    case -4:
      return { kind: "fence-unknown" };
    case -5:
      return { kind: "fence-not-issued", newest: a };
    default:
      return { kind: "corrupt" };
  }
}

import { randomBytes } from "node:crypto";
import type { Fence } from "../../fencing.js";
import { fenceCounterKey, storeItemKeys, storeNamespaceKeys } from "../../keys.js";
import { type ReplyOf, type ScriptArgs, scriptCall } from "../../lua/index.js";
import type { RoutedCall } from "../../routing.js";
import { encodeWriter } from "../codec.js";
import { PURGE_LIMIT, RETIRED_GRACE_MS, type StoreContext } from "../context.js";

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

/** What storePut answered: written, register first (cluster), or refused (conflict, fenced, corrupt). */
export type PutOutcome = ReplyOf<"storePut">;

export function putCall(ctx: StoreContext, write: PreparedWrite, confirmEpoch?: number): RoutedCall<PutOutcome> {
  const k = storeNamespaceKeys(ctx.keyPrefix, write.namespace);
  const item = storeItemKeys(ctx.keyPrefix, write.namespace, write.key);
  // Standalone: the fence counter and the registry share the server, so the script checks and registers inline.
  const inline = ctx.cluster
    ? {}
    : { fenceCounter: write.fence ? fenceCounterKey(ctx.keyPrefix, write.fence.lockKey) : k.items, ...ctx.registry };
  const args: ScriptArgs<"storePut"> = [
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
  return scriptCall("storePut", { ...k, ...item, ...inline }, args);
}

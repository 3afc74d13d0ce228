import { randomBytes } from "node:crypto";
import { valueHash, withAuditContext } from "../../audit/outbox.js";
import type { Fence } from "../../fencing.js";
import { fenceCounterKey, storeItemKeys, storeNamespaceKeys } from "../../keys.js";
import { type ReplyOf, type ScriptArgs, scriptCall } from "../../lua/index.js";
import type { RoutedCall } from "../../routing.js";
import { encodeWriter } from "../codec.js";
import { indexKeysOf, PURGE_LIMIT, RETIRED_GRACE_MS, type StoreContext } from "../context.js";
import { inlineRegistryKeys } from "../registry.js";

/** One write, serialised and checked, ready for the storePut script. */
export interface PreparedWrite {
  readonly namespace: readonly string[];
  readonly key: string;
  /** Registry member of the namespace. */
  readonly member: string;
  readonly op: "put" | "delete";
  /** The value as stored: JSON, or its compressed and/or sealed form (value-cipher.ts); "" for a delete. */
  readonly stored: string | Buffer;
  /** What the audit trail hashes (and records with includeValues): the JSON, or the sealed record as text. */
  readonly auditText: string;
  /** The value as given, for embedding its fields (stored may be sealed); undefined for a delete. */
  readonly value: Record<string, unknown> | undefined;
  /** The item's float32 vectors; null = none. */
  vectors: Buffer | null;
  /** Fields to embed (already resolved from the op's `index` and the store's index config). */
  readonly embedFields: readonly string[];
  readonly ttlMs: number | null;
  readonly writer: string | null;
  /** undefined: unconditional; null or 0: must not exist; n: must be at version n. */
  readonly expectedVersion: number | null | undefined;
  readonly fence: Fence | undefined;
  /** The value's filter index scores (storePut's fieldScores), "" for a delete or without indexes. */
  readonly fieldScores: string;
  /** The audit outbox stream of this write's slot, when the store audits (set before the write is sent). */
  auditStream?: string;
}

/** What storePut answered: written, register first (cluster), or refused (conflict, fenced, corrupt). */
export type PutOutcome = ReplyOf<"storePut">;

export function putCall(ctx: StoreContext, write: PreparedWrite, confirmEpoch?: number): RoutedCall<PutOutcome> {
  const k = storeNamespaceKeys(ctx.keyPrefix, write.namespace);
  const item = storeItemKeys(ctx.keyPrefix, write.namespace, write.key);
  const fieldIndexes = indexKeysOf(ctx, write.namespace);
  // Standalone: the fence counter and the registry share the server, so the script checks and registers inline.
  const inline = ctx.cluster
    ? {}
    : {
        fenceCounter: write.fence ? fenceCounterKey(ctx.keyPrefix, write.fence.lockKey) : k.items,
        ...inlineRegistryKeys(ctx, write.member),
      };
  const args: ScriptArgs<"storePut"> = [
    write.key,
    write.op,
    write.stored,
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
    write.fieldScores,
    fieldIndexes.length,
  ];
  if (ctx.audit && write.auditStream) {
    const audited = withAuditContext(args, storeAuditContext(ctx, write));
    return scriptCall("storePut", { ...k, ...item, ...inline, fieldIndexes, outbox: write.auditStream }, audited);
  }
  return scriptCall("storePut", { ...k, ...item, ...inline, fieldIndexes }, args);
}

/** What a store event records besides what the script adds (version, newest token). */
export function storeAuditContext(ctx: StoreContext, write: PreparedWrite): Record<string, unknown> {
  return {
    namespace: write.namespace,
    key: write.key,
    agent: write.writer ?? ctx.audit?.agentId,
    hash: write.op === "put" ? valueHash(write.auditText) : undefined,
    value: write.op === "put" && ctx.audit?.includeValues ? write.auditText : undefined,
    expectedVersion: write.expectedVersion === undefined ? undefined : (write.expectedVersion ?? 0),
    lockKey: write.fence?.lockKey,
    fenceToken: write.fence?.token,
  };
}

import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import type { RedisContext } from "../context.js";
import { InvalidConfigError } from "../errors.js";
import type { Fence } from "../fencing.js";
import { fenceCounterKey } from "../keys.js";
import { callScript } from "../lua/index.js";
import { lockFailure } from "../redis-call.js";
import type { GuardMutex } from "./guard-mutex.js";
import type { Lease } from "./lease.js";

/** Where the fences travel inside the config handed to a guarded node (and on into tools and subgraphs it calls). */
const FENCES_KEY = "__langgraph_redis_fences";

/**
 * Issues one fencing token per held lock (guardIssueFenceToken.lua: INCR of the lock's fence counter, only if the lock is
 * still ours, renewing its TTL). The scripts for different names run in parallel; on a cluster each goes to the
 * node that owns that name's hash tag. Returns undefined when a lock turned out to be gone already (the lease is
 * then marked lost).
 */
export async function issueFences(
  ctx: RedisContext,
  locks: readonly GuardMutex[],
  lease: Lease,
  lockTimeoutMs: number,
  fenceTtlMs: number,
): Promise<Fence[] | undefined> {
  await ctx.ready();
  const fences = await Promise.all(
    locks.map(async (lock): Promise<Fence | undefined> => {
      const sentAt = performance.now();
      const token = await callScript(
        ctx.client,
        "guardIssueFenceToken",
        { mutex: lock.redisKey, counter: fenceCounterKey(ctx.keyPrefix, lock.lockName) },
        [lock.identifier, lockTimeoutMs, fenceTtlMs],
      ).catch((error: unknown) => {
        throw lockFailure(error, lock.lockName, undefined);
      });
      if (token === undefined) return undefined;
      lease.renewed(lock.lockName, sentAt);
      return { lockKey: lock.lockName, token };
    }),
  );
  if (fences.some((fence) => fence === undefined)) {
    lease.lose("it expired between acquisition and the fencing token (was this process paused?)");
    return undefined;
  }
  return fences as Fence[];
}

/** The config a guarded node runs with: the caller's, plus the combined abort signal and the fences. */
export function nodeConfig(
  config: LangGraphRunnableConfig,
  fences: readonly Fence[],
  signal: AbortSignal,
): LangGraphRunnableConfig {
  return { ...config, signal, configurable: { ...config.configurable, [FENCES_KEY]: fences } };
}

/**
 * The fence of the lock a guarded node runs under, to pass to RedisStore writes (`{ fence }`) so that a write made
 * after the lock was lost, and taken by someone else, is rejected with FencedWriteError.
 *
 * Call it with the config the node (or a tool it calls) received. With one lock name it returns that name's Fence;
 * with several it returns all of them (sorted by name). Give `lockKey` to get the Fence of that one lock name,
 * typed as a single Fence. Throws InvalidConfigError outside a guarded node, or when `lockKey` is not held.
 */
export function currentFence(config: LangGraphRunnableConfig | undefined, lockKey: string): Fence;
export function currentFence(config: LangGraphRunnableConfig | undefined): Fence | readonly Fence[];
export function currentFence(config: LangGraphRunnableConfig | undefined, lockKey?: string): Fence | readonly Fence[] {
  const fences: unknown = config?.configurable?.[FENCES_KEY];
  if (!Array.isArray(fences) || fences.length === 0) {
    throw new InvalidConfigError(
      "currentFence(config): this config carries no fence; call it with the config a guarded() node received",
    );
  }
  if (lockKey !== undefined) {
    const fence = (fences as Fence[]).find((f) => f.lockKey === lockKey);
    if (fence === undefined) {
      const held = (fences as Fence[]).map((f) => JSON.stringify(f.lockKey)).join(", ");
      throw new InvalidConfigError(`currentFence(config, ${JSON.stringify(lockKey)}): this node holds ${held}`);
    }
    return fence;
  }
  return fences.length === 1 ? (fences[0] as Fence) : (fences as readonly Fence[]);
}

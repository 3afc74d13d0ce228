import type { ChainableCommander, Cluster } from "ioredis";
import { isCluster, type RedisClient } from "./client.js";
import type { RedisContext } from "./context.js";
import { log } from "./log.js";
import { type CallSite, namedError } from "./redis-call.js";
import { keySlot } from "./slot.js";
import { isUnrun, sendAgain } from "./slot-migration.js";
import { measuringBytes, noteBytes, payloadBytes } from "./telemetry/index.js";
import { coalesceWrites } from "./write-coalescing.js";

export { keySlot };

/**
 * Cluster routing: pipelines grouped by server. A round of calls costs one round trip per server involved: on a
 * standalone server everything goes in one pipeline; on Redis Cluster each call is routed by the slot of its first
 * key to the master serving it (ioredis only accepts pipelines whose keys one node serves), and the per-node
 * pipelines run concurrently. Each call gets its own reply, decoded.
 */
export interface RoutedCall<R = unknown> {
  /** A key of the call (any of its keys: they share a slot). */
  readonly key: string;
  /** Queues exactly one command on the pipeline. */
  readonly queue: (pipeline: ChainableCommander) => void;
  /** Turns the call's raw reply into its result. */
  readonly decode: (reply: unknown) => R;
}

/** A plain command as a routed call (its reply as ioredis returns it). */
export function commandCall<R = unknown>(key: string, queue: (pipeline: ChainableCommander) => void): RoutedCall<R> {
  return { key, queue, decode: (reply) => reply as R };
}

/** The decoded replies of a round, one per call, in call order (undefined for a call left out). */
export type RoundReplies<C extends readonly (RoutedCall | undefined)[]> = {
  -readonly [I in keyof C]: ReplyOfCall<C[I]>;
};
type ReplyOfCall<X> = X extends RoutedCall<infer R> ? R : undefined;

async function nodeOfSlot(cluster: Cluster, slot: number, key: string): Promise<string> {
  const slots = cluster.slots as unknown as (string[] | undefined)[];
  if (!slots[slot]?.[0]) await cluster.exists(key); // waits until the slot map is known
  return slots[slot]?.[0] ?? `slot:${slot}`;
}

type PipelineResult = [error: Error | null, reply: unknown];

async function pipelineResults(client: RedisClient, calls: readonly RoutedCall[]): Promise<PipelineResult[]> {
  const pipeline = client.pipeline();
  for (const call of calls) call.queue(pipeline);
  coalesceWrites(client);
  const replies = (await pipeline.exec()) ?? [];
  return calls.map((_, i) => replies[i] ?? [new Error("no reply from the pipeline"), undefined]);
}

/** Sends a call that failed with `error` again alone (a pipeline of one command, whose redirections ioredis follows). */
async function sendAlone(client: RedisClient, call: RoutedCall, error: Error): Promise<PipelineResult> {
  const once = async () => {
    const [failure, reply] = (await pipelineResults(client, [call]))[0] as PipelineResult;
    if (failure) throw failure;
    return reply;
  };
  try {
    return [null, await sendAgain(client, error, once)];
  } catch (last) {
    return [last as Error, undefined];
  }
}

async function execPipeline(client: RedisClient, calls: readonly RoutedCall[]): Promise<unknown[]> {
  const results = await pipelineResults(client, calls);
  // A call a slot migration turned away did not run (src/slot-migration.ts), while the others of its pipeline may
  // have: only it is sent again.
  await Promise.all(
    results.map(async (result, i) => {
      if (result[0] !== null && isUnrun(result[0], client)) {
        results[i] = await sendAlone(client, calls[i] as RoutedCall, result[0]);
      }
    }),
  );
  return results.map(([error, reply]) => {
    if (error) throw error;
    if (measuringBytes()) noteBytes(payloadBytes(reply));
    return reply;
  });
}

/**
 * Runs the calls, one pipeline per server (one round trip each, concurrently), and returns each call's decoded
 * reply in call order. Failures become named errors (redisCall's rules).
 */
export async function runRouted<const C extends readonly (RoutedCall | undefined)[]>(
  ctx: RedisContext,
  calls: C,
  site: CallSite = { operation: ctx.component, write: false },
): Promise<RoundReplies<C>> {
  const sent = calls.filter((call): call is RoutedCall => call !== undefined);
  if (sent.length === 0) return calls.map(() => undefined) as RoundReplies<C>;
  try {
    await ctx.ready();
    const replies = await runRaw(ctx.client, sent);
    let next = 0;
    return calls.map((call) => (call === undefined ? undefined : call.decode(replies[next++]))) as RoundReplies<C>;
  } catch (error) {
    throw await namedError(ctx, error, site);
  }
}

/**
 * ioredis refuses a Cluster pipeline whose keys its slot map does not place on one group of nodes, before sending
 * any of it. The map can change between grouping a round (by each slot's master) and sending it: a redirection or a
 * refresh while slots move (seen in the fault suite). The calls of such a group are then sent one pipeline per slot
 * (which ioredis always accepts, and routes and redirects on its own), so calls on one key keep their order.
 */
const SPLIT_PIPELINE = "All keys in the pipeline should belong to the same slots allocation group";

async function execGroup(client: RedisClient, calls: readonly RoutedCall[]): Promise<unknown[]> {
  try {
    return await execPipeline(client, calls);
  } catch (error) {
    if (calls.length === 1 || !(error instanceof Error) || error.message !== SPLIT_PIPELINE) throw error;
    const bySlot = new Map<number, number[]>();
    calls.forEach((call, i) => {
      const slot = keySlot(call.key);
      const group = bySlot.get(slot);
      if (group) group.push(i);
      else bySlot.set(slot, [i]);
    });
    log("routing: the slot map moved keys of a pipeline apart before it was sent; %d pipelines instead", bySlot.size);
    return await runGroups(client, calls, bySlot.values(), execPipeline);
  }
}

/**
 * Runs each group of calls (their indexes) as one pipeline with `exec`, the groups concurrently, and returns every
 * call's reply in call order; after all have settled, the first failure is thrown.
 */
async function runGroups(
  client: RedisClient,
  calls: readonly RoutedCall[],
  groups: Iterable<readonly number[]>,
  exec: (client: RedisClient, calls: readonly RoutedCall[]) => Promise<unknown[]>,
): Promise<unknown[]> {
  const replies: unknown[] = new Array(calls.length);
  const settled = await Promise.allSettled(
    [...groups].map(async (indexes) => {
      const groupReplies = await exec(
        client,
        indexes.map((i) => calls[i] as RoutedCall),
      );
      indexes.forEach((callIndex, j) => {
        replies[callIndex] = groupReplies[j];
      });
    }),
  );
  const failure = settled.find((result) => result.status === "rejected");
  if (failure) throw (failure as PromiseRejectedResult).reason;
  return replies;
}

async function runRaw(client: RedisClient, calls: readonly RoutedCall[]): Promise<unknown[]> {
  if (!isCluster(client)) return await execPipeline(client, calls);
  const groups = new Map<string, number[]>();
  for (let i = 0; i < calls.length; i++) {
    const call = calls[i] as RoutedCall;
    const node = await nodeOfSlot(client, keySlot(call.key), call.key);
    const group = groups.get(node);
    if (group) group.push(i);
    else groups.set(node, [i]);
  }
  return await runGroups(client, calls, groups.values(), execGroup);
}

/** The reply of one call of a Round, readable once the round has run. */
export interface Pending<R> {
  readonly value: R;
}

/**
 * A round of calls built up piece by piece: `add(call)` returns that call's own reply holder, `run(ctx)` sends the
 * whole round (one pipeline per server, calls in the order added) and fills every holder. No index arithmetic.
 */
export class Round {
  readonly #calls: RoutedCall[] = [];
  readonly #slots: { value?: unknown; done: boolean }[] = [];

  get size(): number {
    return this.#calls.length;
  }

  add<R>(call: RoutedCall<R>): Pending<R> {
    const slot: { value?: unknown; done: boolean } = { done: false };
    this.#calls.push(call);
    this.#slots.push(slot);
    return {
      get value(): R {
        if (!slot.done) throw new Error("a round's reply was read before the round ran");
        return slot.value as R;
      },
    };
  }

  async run(ctx: RedisContext, site?: CallSite): Promise<void> {
    const replies = await runRouted(ctx, this.#calls, site);
    this.#slots.forEach((slot, i) => {
      slot.value = replies[i];
      slot.done = true;
    });
  }
}

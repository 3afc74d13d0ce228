/**
 * Threads written by earlier releases: the byId index they kept goes at the first put of the thread in a process,
 * whichever put script that put takes (saverPutCompact for the common put, saverPut with a TTL or a run id), and
 * only then: a thread already converted in this process is not checked again.
 */
import type { CheckpointMetadata } from "@langchain/langgraph-checkpoint";
import { RedisSaver } from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { COMMAND_PREFIX } from "../../src/lua/index.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { collect, inputMetadata, loopMetadata, makeCheckpoint } from "./saver-helpers.js";

/** Counts the calls of one put script on the saver's client (the calls still go to Redis). */
function countCalls(saver: RedisSaver, script: "saverPut" | "saverPutCompact"): { count: number } {
  const target = saver.client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const name = `${COMMAND_PREFIX}${script}`;
  const original = target[name] as (...args: unknown[]) => Promise<unknown>;
  const counter = { count: 0 };
  vi.spyOn(target, name).mockImplementation(function (this: unknown, ...args: unknown[]) {
    counter.count++;
    return original.apply(this, args);
  });
  return counter;
}

describe.each(targets)("legacy layout upgrade ($name)", ({ connect }) => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  async function putTwo(saver: RedisSaver, threadId: string, metadata: Record<string, unknown> = {}) {
    const first = makeCheckpoint({ a: 1 });
    const config = await saver.put(
      { configurable: { thread_id: threadId, checkpoint_ns: "" } },
      first,
      { ...inputMetadata, ...metadata } as CheckpointMetadata,
      first.channel_versions,
    );
    const second = makeCheckpoint({ a: 2 }, { a: 2 });
    await saver.put(config, second, { ...loopMetadata(0), ...metadata } as CheckpointMetadata, { a: 2 });
  }

  it("the common put (no TTL, no run id) deletes byId at the thread's first put in the process, in the same script", async () => {
    const client = connect();
    const keyPrefix = testPrefix("legacy");
    const saver = new RedisSaver({ client, keyPrefix });
    const keys = saverThreadKeys(keyPrefix, "old");
    await client.zadd(keys.byId, 0, "x\u0000");
    // A put of another thread first: the scripts are registered on the client at the saver's first call.
    await putTwo(saver, "warm");
    const compact = countCalls(saver, "saverPutCompact");
    const full = countCalls(saver, "saverPut");
    await putTwo(saver, "old");
    expect(await client.exists(keys.byId)).toBe(0);
    expect([compact.count, full.count]).toEqual([2, 0]);
    expect(await collect(saver.list({ configurable: { thread_id: "old" } }))).toHaveLength(2);
    // Converted in this process: a byId written again (an earlier release still running beside this one) stays
    // until the thread's first put in another process.
    await client.zadd(keys.byId, 0, "y\u0000");
    await putTwo(saver, "old");
    expect(await client.exists(keys.byId)).toBe(1);
    await putTwo(new RedisSaver({ client, keyPrefix }), "old");
    expect(await client.exists(keys.byId)).toBe(0);
  });

  it("a put through saverPut (TTL or run id) converts the thread as before", async () => {
    const client = connect();
    const keyPrefix = testPrefix("legacyfull");
    const saver = new RedisSaver({ client, keyPrefix, ttl: { defaultTtlMs: 600_000 } });
    const keys = saverThreadKeys(keyPrefix, "old");
    await client.zadd(keys.byId, 0, "x\u0000");
    await putTwo(saver, "warm");
    const full = countCalls(saver, "saverPut");
    await putTwo(saver, "old", { run_id: "run-1" });
    expect(await client.exists(keys.byId)).toBe(0);
    expect(full.count).toBe(2);
  });
});

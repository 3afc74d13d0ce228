/**
 * deleteForRuns' blob check in pages (saverDeleteForRuns with a check limit, then saverCheckBlobs), driven script by
 * script with writes in between: what a put makes while the pages run must not lose a blob it needs.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import type { CheckpointMetadata } from "@langchain/langgraph-checkpoint";
import type { RedisClient } from "../../src/client.js";
import { RedisSaver } from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { escapePart } from "../../src/saver/codec.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { runRawScript } from "../helpers/scripts.js";
import { loopMetadata } from "./saver-helpers.js";

/** Checkpoint `id` on thread t, run `runId`: channel "ch" at `version` (a new blob when `fresh`). */
async function put(saver: RedisSaver, id: string, parent: string, runId: string, version: number, fresh: boolean) {
  const config: RunnableConfig = {
    configurable: { thread_id: "t", checkpoint_ns: "", ...(parent ? { checkpoint_id: parent } : {}) },
  };
  const checkpoint = {
    v: 4,
    id,
    ts: new Date(0).toISOString(),
    channel_values: { ch: `value ${version}` },
    channel_versions: { ch: version },
    versions_seen: {},
  };
  await saver.put(
    config,
    checkpoint,
    { ...loopMetadata(version), run_id: runId } as CheckpointMetadata,
    fresh ? { ch: version } : {},
  );
}

describe.each(targets)("deleteForRuns' blob check in pages ($name)", ({ connect }) => {
  let client: RedisClient;
  beforeAll(() => {
    client = connect();
  });

  async function setUp(name: string) {
    const saver = new RedisSaver({ client, keyPrefix: testPrefix(name) });
    // run-a writes cp-1..cp-3 (versions 1..3), run-b cp-4..cp-6 (versions 4..6).
    for (let v = 1; v <= 6; v++) {
      await put(saver, `cp-${v}`, v > 1 ? `cp-${v - 1}` : "", v <= 3 ? "run-a" : "run-b", v, true);
    }
    const keys = saverThreadKeys(saver.keyPrefix, "t");
    const field = async (version: number) => {
      const fields = await client.hkeys(keys.blobs);
      return fields.find((f) => f.endsWith(`\0${version}`) || f.endsWith(`.${version}`)) ?? "";
    };
    const checkKeys = [keys.checkpoints, keys.blobs, keys.byNamespace, keys.runFences];
    const page = (after: string, count: number, read: number, last: "1" | "0", candidates: readonly string[]) =>
      runRawScript(client, "saverCheckBlobs", checkKeys, ["", after, count, read, last, ...candidates]) as Promise<
        [string, number, string[], number]
      >;
    // Phase one with a limit of 0: run-b's checkpoints go, its blobs come back as candidates.
    const phaseOne = async (runId: string) =>
      (await runRawScript(client, "saverDeleteForRuns", keys.all, ["", 0, 0, escapePart(runId)])) as [
        number,
        number,
        number,
        string[][],
      ];
    return { saver, keys, field, page, phaseOne };
  }

  it("leaves the candidates to the client, marks the thread, and the last page deletes what nothing needs", async () => {
    const { keys, field, page, phaseOne } = await setUp("bcp");
    const [checkpoints, , blobs, deferred] = await phaseOne("run-b");
    expect([checkpoints, blobs]).toEqual([3, 0]);
    expect(deferred).toHaveLength(1);
    const [ns, ...candidates] = deferred[0] as string[];
    expect(ns).toBe("");
    expect(candidates.sort()).toEqual([await field(4), await field(5), await field(6)].sort());
    expect(await client.hget(keys.runFences, "{sweep}")).toBe("d1");
    // Pages of one checkpoint: cp-1, cp-2, cp-3, then the end.
    let after = "";
    let read = 0;
    for (let i = 1; i <= 3; i++) {
      const [next, count, needed, removed] = await page(after, 1, read, "1", candidates);
      expect([count, needed, removed]).toEqual([1, [], -1]);
      after = next;
      read += count;
    }
    expect(await page(after, 1, read, "1", candidates)).toEqual(["", 0, [], 3]);
    expect(await client.hexists(keys.runFences, "{sweep}")).toBe(0);
    expect(await client.hlen(keys.blobs)).toBe(3);
  });

  it("keeps a candidate that a checkpoint put during the pages leans on", async () => {
    const { saver, keys, field, page, phaseOne } = await setUp("bca");
    const [, , , deferred] = await phaseOne("run-b");
    const candidates = (deferred[0] as string[]).slice(1);
    const [after, count] = await page("", 2, 0, "1", candidates);
    // A put appended meanwhile that keeps version 6 (no new blob): the last page reads it.
    await put(saver, "cp-7", "cp-6", "run-c", 6, false);
    const [end, lastCount, needed, removed] = await page(after, 5, count, "1", candidates);
    expect([end, lastCount, needed, removed]).toEqual(["", 2, [await field(6)], 2]);
    expect(await client.hexists(keys.blobs, await field(6))).toBe(1);
    expect(await client.hlen(keys.blobs)).toBe(4);
  });

  it("deletes nothing when a checkpoint arrives behind the pages, and the next pass reads it", async () => {
    const { saver, keys, field, page, phaseOne } = await setUp("bcb");
    const [, , , deferred] = await phaseOne("run-b");
    const candidates = (deferred[0] as string[]).slice(1);
    const [after, count] = await page("", 2, 0, "1", candidates);
    // An id that sorts before the pages' position (cp-0 < cp-2), keeping version 5.
    await put(saver, "cp-0", "cp-5", "run-c", 5, false);
    expect(await page(after, 5, count, "1", candidates)).toEqual(["", 1, [], -2]);
    expect(await client.hlen(keys.blobs)).toBe(6);
    expect(await client.hget(keys.runFences, "{sweep}")).toBe("d1");
    const [end, read, needed, removed] = await page("", 10, 0, "1", candidates);
    expect([end, read, needed, removed]).toEqual(["", 4, [await field(5)], 2]);
    expect(await client.hexists(keys.blobs, await field(5))).toBe(1);
    expect(await client.hexists(keys.runFences, "{sweep}")).toBe(0);
  });

  it("takes back only its own count of the mark: not before the last namespace, nor a prune's mark", async () => {
    const { saver, keys, page, phaseOne } = await setUp("bcm");
    await put(saver, "cp-7", "cp-6", "run-c", 7, true);
    const [, , , deferred] = await phaseOne("run-b");
    const candidates = (deferred[0] as string[]).slice(1);
    expect((await page("", 10, 0, "0", candidates))[3]).toBe(3);
    expect(await client.hget(keys.runFences, "{sweep}")).toBe("d1");
    // A second call checking the same thread meanwhile counts itself in; each end takes back one.
    expect((await phaseOne("run-a"))[3]).toHaveLength(1);
    expect(await client.hget(keys.runFences, "{sweep}")).toBe("d2");
    expect(await page("", 10, 0, "1", [])).toEqual(["", 0, [], 0]);
    expect(await client.hget(keys.runFences, "{sweep}")).toBe("d1");
    // A prune's sweep marks over it; an end then leaves that mark alone.
    await client.hset(keys.runFences, "{sweep}", "1");
    expect(await page("", 10, 0, "1", [])).toEqual(["", 0, [], 0]);
    expect(await client.hget(keys.runFences, "{sweep}")).toBe("1");
  });

  it("a thread marked by an interrupted check is swept by its next prune", async () => {
    const { saver, keys, phaseOne } = await setUp("bci");
    await phaseOne("run-b");
    expect(await client.hlen(keys.blobs)).toBe(6);
    // No page ever ran (the client died): prune, with nothing to trim past keepLast 3, sweeps the three blobs.
    const result = await saver.prune(["t"], { keepLast: 3 });
    expect([result.checkpoints, result.blobs]).toEqual([0, 3]);
    expect(await client.hlen(keys.blobs)).toBe(3);
    expect(await client.hexists(keys.runFences, "{sweep}")).toBe(0);
  });
});

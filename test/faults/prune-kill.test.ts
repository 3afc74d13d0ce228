/**
 * prune() in a real process killed with SIGKILL (by pid) at different moments: each saverPrune call is atomic, so
 * whatever the kill interrupted, every checkpoint left reads exactly as before (as an untrimmed copy of the thread
 * reads), DeltaChannel histories of the kept checkpoints are intact, no blob is left that nothing needs, and a prune
 * started again finishes the job. deleteForRuns the same way, killed while it checks blobs in pages.
 */
import type { CheckpointTuple } from "@langchain/langgraph-checkpoint";
import { MemorySaver } from "@langchain/langgraph-checkpoint";
import { Redis } from "ioredis";
import { type LocalRedis, startRedis } from "../../scripts/local-redis.js";
import { RedisSaver } from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { recordCounts } from "../helpers/counts.js";
import { randomHistory } from "../saver/random-history.js";
import { expectNoOrphanBlobs } from "../saver/retention-helpers.js";
import { collect } from "../saver/saver-helpers.js";
import { startWriter, type WriterProcess } from "./fixtures/child.js";

const THREADS = ["t0", "t1", "t2", "t3", "t4", "t5"];
const KEEP_LAST = 3;

/** The tuple as the untrimmed copy `ref-<thread>` holds it, with the thread id put back. */
function asThread(tuple: CheckpointTuple | undefined, threadId: string): unknown {
  return JSON.parse(
    JSON.stringify(tuple ?? null).replaceAll(`"thread_id":"ref-${threadId}"`, `"thread_id":"${threadId}"`),
  );
}

/** Kills the worker `delayMs` after it said it started (SIGKILL, by pid); true when it had finished by then. */
async function killAfterStart(worker: WriterProcess, delayMs: number): Promise<boolean> {
  try {
    await worker.waitFor("the worker to start", (events) => events.some((e) => e.start === true), 60_000);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    worker.kill();
    await worker.exit(60_000);
  } finally {
    worker.kill();
  }
  return worker.events.some((e) => e.done === true);
}

describe("history removal killed mid-way", () => {
  let server: LocalRedis;
  let client: Redis;
  beforeAll(async () => {
    server = await startRedis();
    client = new Redis(server.url, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
  });

  /**
   * Every checkpoint of `threadId` reads as in its untrimmed copy; kept DeltaChannel histories are MemorySaver's. No
   * blob is left that nothing needs, unless the thread is marked for the blob sweep (a prune killed before its sweep
   * leaves the blobs of the steps that deferred it, for the next prune).
   */
  async function expectIntact(saver: RedisSaver, memory: MemorySaver, threadId: string): Promise<number> {
    const kept = await collect(saver.list({ configurable: { thread_id: threadId } }));
    for (const tuple of kept) {
      const ref = await saver.getTuple({
        configurable: { ...tuple.config.configurable, thread_id: `ref-${threadId}` },
      });
      expect(JSON.parse(JSON.stringify(tuple))).toEqual(asThread(ref, threadId));
      if (!Object.hasOwn(tuple.checkpoint.channel_values, "messages")) {
        const history = { config: tuple.config, channels: ["messages"] };
        expect(await saver.getDeltaChannelHistory(history)).toEqual(await memory.getDeltaChannelHistory(history));
      }
    }
    const marked = await client.hexists(saverThreadKeys(saver.keyPrefix, threadId).runFences, "{sweep}");
    if (marked === 0) await expectNoOrphanBlobs(saver, threadId);
    return kept.length;
  }

  it("leaves every kept checkpoint readable, and a second prune completes", async (context) => {
    const keyPrefix = "prunekill";
    const saver = new RedisSaver({ client, keyPrefix });
    const memory = new MemorySaver();
    for (const [i, threadId] of THREADS.entries()) {
      await randomHistory([saver, memory], threadId, 100 + i, 160, { growingBytes: 300, deltaChannels: ["messages"] });
      await saver.copyThread(threadId, `ref-${threadId}`);
    }
    const written = (await collect(saver.list({ configurable: { thread_id: "t0" } }))).length;

    let interrupted = 0;
    const delaysMs = [0, 10, 30, 80, 200, 500];
    for (const [round, delayMs] of delaysMs.entries()) {
      // A fresh untrimmed history for every round.
      for (const threadId of THREADS) {
        await saver.deleteThread(threadId);
        await saver.copyThread(`ref-${threadId}`, threadId);
      }
      const worker = startWriter("prune-worker.ts", {
        REDIS_URL: server.url,
        KEY_PREFIX: keyPrefix,
        THREADS: THREADS.join(","),
        KEEP_LAST: String(KEEP_LAST),
        // Every other round, each step leaves its unneeded blobs to the sweep, as on a long thread.
        ...(round % 2 === 1 ? { BLOB_CHECK_LIMIT: "0" } : {}),
      });
      if (!(await killAfterStart(worker, delayMs))) interrupted += 1;
      for (const threadId of THREADS) await expectIntact(saver, memory, threadId);
    }
    recordCounts(context, { faultsInjected: delaysMs.length });
    // Some kill landed before the prune finished, so the test tested something.
    expect(interrupted).toBeGreaterThan(0);

    // Pruning again finishes the job: each thread is down to what keepLast and the kept checkpoints need.
    const again = await saver.prune(THREADS, { keepLast: KEEP_LAST });
    expect(again.incomplete).toEqual([]);
    for (const threadId of THREADS) {
      expect(await client.hexists(saverThreadKeys(keyPrefix, threadId).runFences, "{sweep}")).toBe(0);
      const left = await expectIntact(saver, memory, threadId);
      expect(left).toBeLessThan(written);
      expect((await saver.prune([threadId], { keepLast: KEEP_LAST })).checkpoints).toBe(0);
    }
  });

  it("deleteForRuns killed while it checks blobs in pages: what remains reads as before, a prune sweeps the rest", async (context) => {
    const doomed = ["run-1", "run-3"];
    let interrupted = 0;
    const delaysMs = [0, 5, 20, 60, 150];
    for (const [round, delayMs] of delaysMs.entries()) {
      // A prefix per round: the runs' hashes name only this round's threads.
      const saver = new RedisSaver({ client, keyPrefix: `dfrkill${round}` });
      const memory = new MemorySaver();
      for (const [i, threadId] of THREADS.entries()) {
        await randomHistory([saver, memory], threadId, 200 + i, 120, {
          growingBytes: 300,
          deltaChannels: ["messages"],
        });
      }
      const worker = startWriter("prune-worker.ts", {
        REDIS_URL: server.url,
        KEY_PREFIX: saver.keyPrefix,
        RUNS: doomed.join(","),
        BLOB_CHECK_LIMIT: "0",
        BLOB_CHECK_PAGE: "3",
      });
      if (!(await killAfterStart(worker, delayMs))) interrupted += 1;
      for (const threadId of THREADS) {
        // Each thread is cleaned by one script: all of the runs' checkpoints are there, or none.
        const left = await collect(saver.list({ configurable: { thread_id: threadId } }));
        const all = await collect(memory.list({ configurable: { thread_id: threadId } }));
        const kept = all.filter((t) => !doomed.includes(String((t.metadata as { run_id?: string }).run_id)));
        expect([all.length, kept.length]).toContain(left.length);
        for (const tuple of left) {
          expect(await saver.getTuple(tuple.config)).toEqual(await memory.getTuple(tuple.config));
        }
        const marked = await client.hget(saverThreadKeys(saver.keyPrefix, threadId).runFences, "{sweep}");
        if (marked === null) await expectNoOrphanBlobs(saver, threadId);
      }
      // Calling again finishes the removal; a prune that trims nothing sweeps what an interrupted check left.
      await saver.deleteForRuns(doomed);
      const swept = await saver.prune(THREADS, { keepLast: 1_000 });
      expect(swept.checkpoints).toBe(0);
      for (const threadId of THREADS) {
        expect(await client.hexists(saverThreadKeys(saver.keyPrefix, threadId).runFences, "{sweep}")).toBe(0);
        await expectNoOrphanBlobs(saver, threadId);
        const left = await collect(saver.list({ configurable: { thread_id: threadId } }));
        expect(left.every((t) => !doomed.includes(String((t.metadata as { run_id?: string }).run_id)))).toBe(true);
      }
    }
    recordCounts(context, { faultsInjected: delaysMs.length });
    expect(interrupted).toBeGreaterThan(0);
  });
});

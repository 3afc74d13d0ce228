/**
 * A rolling restart of 3 worker processes under load: each worker holds runs when it gets SIGTERM; it drains them
 * (each stops at a step boundary and is handed off) and exits, and a fresh worker takes its place. Every run ends
 * complete, no run is lost, and no step runs twice (each step counts its executions in Redis).
 */
import { Redis } from "ioredis";
import { type LocalRedis, startRedis } from "../../scripts/local-redis.js";
import { RedisSaver } from "../../src/index.js";
import { type Child, finished, startChild, stopAll } from "../helpers/child-process.js";

const worker = ["--import", "tsx", "test/faults/fixtures/rolling-worker.ts"];
let redis: LocalRedis | undefined;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await stopAll();
  await redis?.stop();
});

describe("rolling restart of 3 workers", () => {
  it("loses no run and runs no step twice", async () => {
    const url = (redis as LocalRedis).url;
    const keyPrefix = `rolling${process.pid}`;
    const start = (threads: string[]): Child =>
      startChild([
        ...worker,
        JSON.stringify({ KEY_PREFIX: keyPrefix, REDIS_URL: url, THREADS: threads.join(","), STEP_MS: "700" }),
      ]);
    const all: string[] = [];
    const workers: Child[] = [];
    for (let w = 0; w < 3; w++) {
      const threads = Array.from({ length: 6 }, (_, i) => `w${w}-t${i}`);
      all.push(...threads);
      workers.push(start(threads));
    }
    await Promise.all(workers.map((child) => child.waitForLine(/READY/, 60_000)));
    // Restart one worker at a time while runs are in flight everywhere; each replacement starts runs of its own.
    let handedOff = 0;
    for (let w = 0; w < 3; w++) {
      const old = workers[w] as Child;
      old.kill("SIGTERM");
      const lines = await finished(old, 60_000);
      const drained = lines.find((line) => line.startsWith("DRAINED"));
      expect(drained).toMatch(/^DRAINED \d+ 0$/);
      handedOff += Number(drained?.split(" ")[1]);
      const extra = Array.from({ length: 2 }, (_, i) => `r${w}-t${i}`);
      all.push(...extra);
      workers[w] = start(extra);
      await (workers[w] as Child).waitForLine(/READY/, 60_000);
    }

    // The restarts happened under load: runs were in flight and handed over (not merely finished before).
    expect(handedOff).toBeGreaterThan(0);
    const client = new Redis(url);
    const saver = new RedisSaver({ client, keyPrefix });
    const deadline = Date.now() + 120_000;
    const complete = async (threadId: string) =>
      (
        (await saver.getTuple({ configurable: { thread_id: threadId } }))?.checkpoint.channel_values.done as
          | string[]
          | undefined
      )?.length === 5;
    for (const threadId of all) {
      while (!(await complete(threadId))) {
        if (Date.now() > deadline) throw new Error(`thread ${threadId} did not complete`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    for (const threadId of all) {
      const tuple = await saver.getTuple({ configurable: { thread_id: threadId } });
      expect(tuple?.checkpoint.channel_values.done).toEqual(["s1", "s2", "s3", "s4", "s5"]);
      for (const step of ["s1", "s2", "s3", "s4", "s5"]) {
        expect([threadId, step, await client.get(`${keyPrefix}|test:exec:${threadId}:${step}`)]).toEqual([
          threadId,
          step,
          "1",
        ]);
      }
    }
    client.disconnect();
  });

  it("a worker killed with SIGKILL during hand-off loses no run: its runs are resumed once their leases expire", async () => {
    const url = (redis as LocalRedis).url;
    const keyPrefix = `killed${process.pid}`;
    const start = (threads: string[]): Child =>
      startChild([
        ...worker,
        JSON.stringify({ KEY_PREFIX: keyPrefix, REDIS_URL: url, THREADS: threads.join(","), STEP_MS: "700" }),
      ]);
    const doomedThreads = Array.from({ length: 4 }, (_, i) => `k-t${i}`);
    const doomed = start(doomedThreads);
    const survivor = start([]);
    await Promise.all([doomed.waitForLine(/READY/, 60_000), survivor.waitForLine(/READY/, 60_000)]);
    // SIGTERM starts the drain; SIGKILL lands before it can finish: some runs handed off, others left to expire.
    doomed.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 200));
    doomed.kill("SIGKILL");
    await doomed.exited;

    const client = new Redis(url);
    const saver = new RedisSaver({ client, keyPrefix });
    const deadline = Date.now() + 120_000;
    for (const threadId of doomedThreads) {
      for (;;) {
        const done = (await saver.getTuple({ configurable: { thread_id: threadId } }))?.checkpoint.channel_values
          .done as string[] | undefined;
        if (done?.length === 5) break;
        if (Date.now() > deadline) throw new Error(`thread ${threadId} did not complete`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const tuple = await saver.getTuple({ configurable: { thread_id: threadId } });
      // Each step's result is in the state once: the run was resumed once, from its last checkpoint.
      expect(tuple?.checkpoint.channel_values.done).toEqual(["s1", "s2", "s3", "s4", "s5"]);
    }
    client.disconnect();
  });
});

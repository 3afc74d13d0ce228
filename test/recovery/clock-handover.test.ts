/**
 * A leased run whose checkpoint RedisSaver refuses for the process's clock (ClockSkewError: the host is behind the
 * one that wrote the parent) is handed over like a drained run: its lease is marked expired at once, and a recovery
 * worker elsewhere finishes it from its last checkpoint, each node once. The refusal itself, with real processes and
 * a clock set back, is tested in test/saver/process-resume.test.ts; here the saver refuses one put as such a host's
 * would.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import type { ChannelVersions, Checkpoint, CheckpointMetadata } from "@langchain/langgraph-checkpoint";
import type { RedisClient } from "../../src/client.js";
import { ClockSkewError, RedisSaver, withRunLease } from "../../src/index.js";
import { findCrashedRuns } from "../../src/recovery/find-crashed-runs.js";
import { startRecoveryWorker } from "../../src/recovery/start-recovery-worker.js";
import type { ResumeResult } from "../../src/recovery/types.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { FINAL_TRAIL, finishWithWorker, testGraph, waitUntil } from "./helpers.js";

/** A saver on a host whose clock is behind: refuses the put of the step after `a`, as RedisSaver.put would. */
class BehindSaver extends RedisSaver {
  refused = 0;
  /** How far behind its clock is: the error's behindMs. */
  behindMs = 1500;

  override async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    versions: ChannelVersions,
  ) {
    const parentId = config.configurable?.checkpoint_id as string;
    if (metadata.step === 1) {
      this.refused += 1;
      throw new ClockSkewError(String(config.configurable?.thread_id), "", checkpoint.id, parentId, this.behindMs);
    }
    return super.put(config, checkpoint, metadata, versions);
  }
}

/** A leased graph on a host `behindMs` behind, whose run on `threadId` was just refused and handed over. */
async function refusedRun(connect: () => RedisClient, keyPrefix: string, threadId: string, behindMs: number) {
  const behindSaver = new BehindSaver({ client: connect(), keyPrefix });
  behindSaver.behindMs = behindMs;
  const behind = withRunLease(testGraph({ checkpointer: behindSaver }), {
    keyPrefix,
    name: "g",
    leaseMs: 60_000,
    heartbeatMs: 1_000,
    client: connect(),
    owner: "behind",
  });
  const config = { configurable: { thread_id: threadId } };
  await expect(behind.invoke({ input: 7 }, config)).rejects.toBeInstanceOf(ClockSkewError);
  return { behindSaver, behind };
}

describe.each(targets)("a run refused for its clock ($name)", ({ connect }) => {
  it("is handed over: its lease expires at once and a worker elsewhere finishes it, each node once", async () => {
    const keyPrefix = testPrefix("clock-hand");
    const executions = new Map<string, number>();
    // A lease far longer than the test: only the hand-over (not expiry) can let the worker take the run.
    const lease = { keyPrefix, name: "g", leaseMs: 60_000, heartbeatMs: 1_000 };
    const behindSaver = new BehindSaver({ client: connect(), keyPrefix });
    const behind = withRunLease(testGraph({ checkpointer: behindSaver, executions }), {
      ...lease,
      client: connect(),
      owner: "behind",
    });
    const right = withRunLease(
      testGraph({ checkpointer: new RedisSaver({ client: connect(), keyPrefix }), executions }),
      {
        ...lease,
        client: connect(),
        owner: "right",
      },
    );
    const config = { configurable: { thread_id: "skewed" } };

    await expect(behind.invoke({ input: 7 }, config)).rejects.toBeInstanceOf(ClockSkewError);
    expect(behindSaver.refused).toBe(1);
    const crashed = await findCrashedRuns(right);
    expect(crashed.map((run) => run.threadId)).toEqual(["skewed"]);

    await finishWithWorker(right, config);
    expect((await right.getState(config)).values.trail).toEqual(FINAL_TRAIL);
    // a ran on the refused host (its write was kept with the checkpoint it started from); nothing ran twice.
    expect([...executions.values()]).toEqual([1, 1, 1, 1]);
    expect(await findCrashedRuns(right)).toEqual([]);
  });
  it("a recovery worker on the host that is behind leaves the run to others until its clock has passed it", async () => {
    const keyPrefix = testPrefix("clock-wait");
    const executions = new Map<string, number>();
    const lease = { keyPrefix, name: "g", leaseMs: 60_000, heartbeatMs: 1_000 };
    const behindSaver = new BehindSaver({ client: connect(), keyPrefix });
    // Behind by a minute: the worker's clock does not catch up during the test.
    behindSaver.behindMs = 60_000;
    const behind = withRunLease(testGraph({ checkpointer: behindSaver, executions }), {
      ...lease,
      client: connect(),
      owner: "behind",
    });
    const config = { configurable: { thread_id: "skewed-worker" } };
    await expect(behind.invoke({ input: 7 }, config)).rejects.toBeInstanceOf(ClockSkewError);

    // Its own worker claims the run once, is refused again, and then leaves it alone pass after pass.
    const results: ResumeResult[] = [];
    const worker = startRecoveryWorker(behind, { intervalMs: 20, onResult: (result) => results.push(result) });
    try {
      await waitUntil(async () => worker.stats.passes >= 6, 20);
    } finally {
      await worker.stop();
    }
    expect(behindSaver.refused).toBe(2);
    // The later passes do not list it at all; others still see it.
    expect(results).toEqual([expect.objectContaining({ outcome: "failed", error: expect.any(ClockSkewError) })]);
    expect(await findCrashedRuns(behind)).toHaveLength(1);

    // A worker on a host with a right clock finishes it, each node once.
    const right = withRunLease(
      testGraph({ checkpointer: new RedisSaver({ client: connect(), keyPrefix }), executions }),
      { ...lease, client: connect(), owner: "right" },
    );
    await finishWithWorker(right, config);
    expect((await right.getState(config)).values.trail).toEqual(FINAL_TRAIL);
    expect([...executions.values()]).toEqual([1, 1, 1, 1]);
  });
  it("the worker on the host that is behind claims the run again once its clock has passed the checkpoint", async () => {
    const { behindSaver, behind } = await refusedRun(connect, testPrefix("clock-again"), "skewed-again", 300);
    const outcomes: string[] = [];
    const worker = startRecoveryWorker(behind, { intervalMs: 20, onResult: (result) => outcomes.push(result.outcome) });
    const startedMs = performance.now();
    try {
      // Refused twice by its own worker: at its first pass, and once 300 ms had passed on its clock.
      await waitUntil(() => behindSaver.refused >= 3, 20);
    } finally {
      await worker.stop();
    }
    expect(performance.now() - startedMs).toBeGreaterThanOrEqual(300);
    // Left alone in between: no pass listed it.
    expect(outcomes).toEqual(["failed", "failed"]);
  });
  it("a pass that finds only the run it was refused pauses, though it found as many runs as its limit", async () => {
    const { behindSaver, behind } = await refusedRun(connect, testPrefix("clock-pause"), "skewed-pause", 60_000);
    // limit 1: every pass finds as many runs as its limit, so it reports that more may be waiting.
    const worker = startRecoveryWorker(behind, { intervalMs: 200, limit: 1 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    } finally {
      await worker.stop();
    }
    // One pass claimed the run (refused; nothing it could change, so no more said to wait); the others left it
    // alone, 200 ms apart: about 5 in a second, not hundreds.
    expect(behindSaver.refused).toBe(2);
    expect(worker.stats.passes).toBeGreaterThanOrEqual(2);
    expect(worker.stats.passes).toBeLessThanOrEqual(10);
  });
});

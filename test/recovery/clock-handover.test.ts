/**
 * A leased run whose checkpoint RedisSaver refuses for the process's clock (ClockSkewError: the host is behind the
 * one that wrote the parent) is handed over like a drained run: its lease is marked expired at once, and a recovery
 * worker elsewhere finishes it from its last checkpoint, each node once. The refusal itself, with real processes and
 * a clock set back, is tested in test/saver/process-resume.test.ts; here the saver refuses one put as such a host's
 * would.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import type { ChannelVersions, Checkpoint, CheckpointMetadata } from "@langchain/langgraph-checkpoint";
import { ClockSkewError, RedisSaver, withRunLease } from "../../src/index.js";
import { findCrashedRuns } from "../../src/recovery/find-crashed-runs.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { FINAL_TRAIL, finishWithWorker, testGraph } from "./helpers.js";

/** A saver on a host whose clock is behind: refuses the put of the step after `a`, as RedisSaver.put would. */
class BehindSaver extends RedisSaver {
  refused = 0;

  override async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    versions: ChannelVersions,
  ) {
    const parentId = config.configurable?.checkpoint_id as string;
    if (metadata.step === 1) {
      this.refused += 1;
      throw new ClockSkewError(String(config.configurable?.thread_id), "", checkpoint.id, parentId, 1500);
    }
    return super.put(config, checkpoint, metadata, versions);
  }
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
});

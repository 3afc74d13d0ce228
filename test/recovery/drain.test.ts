/**
 * drainRuns: a process handing its runs over (deploy): new runs are refused, each run in flight stops at its next
 * step boundary with its checkpoint stored, its lease is marked expired at once, and a recovery worker in another
 * process (its own client) resumes it without waiting for leaseMs. Nothing runs twice, nothing is lost.
 */
import { GraphDrained } from "@langchain/langgraph";
import { drainRuns, RedisSaver, RunsDrainingError, withRunLease } from "../../src/index.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { FINAL_TRAIL, finishWithWorker, gate, testGraph } from "./helpers.js";

describe.each(targets)("drainRuns ($name)", ({ connect }) => {
  it("hands a run over at a step boundary; another process's worker resumes it at once", async () => {
    const keyPrefix = testPrefix("drain");
    const executions = new Map<string, number>();
    const inB1 = gate();
    const slowB1 = gate();
    // A lease far longer than the test: only the hand-off (not expiry) can let the worker take the run.
    const lease = { keyPrefix, name: "g", leaseMs: 60_000, heartbeatMs: 1_000 };
    const leaving = withRunLease(
      testGraph({
        checkpointer: new RedisSaver({ client: connect(), keyPrefix }),
        executions,
        behaviour: { b1: { until: slowB1.opened } },
        onStart: (node) => node === "b1" && inB1.open(),
      }),
      { ...lease, client: connect(), owner: "leaving" },
    );
    const staying = withRunLease(
      testGraph({ checkpointer: new RedisSaver({ client: connect(), keyPrefix }), executions }),
      {
        ...lease,
        client: connect(),
        owner: "staying",
      },
    );
    const config = { configurable: { thread_id: "deploy" } };
    const run = leaving.invoke({ input: 7 }, config).catch((error: unknown) => error);
    await inB1.opened;

    const draining = drainRuns(leaving, { timeoutMs: 20_000 });
    await expect(leaving.invoke({ input: 1 }, { configurable: { thread_id: "new" } })).rejects.toBeInstanceOf(
      RunsDrainingError,
    );
    slowB1.open(); // the step in flight finishes; the run stops at the boundary after it
    expect(await run).toBeInstanceOf(GraphDrained);
    expect(await draining).toEqual({ handedOff: 1, remaining: 0 });

    await finishWithWorker(staying, config);
    expect((await staying.getState(config)).values.trail).toEqual(FINAL_TRAIL);
    // Every node ran exactly once across both processes.
    expect([...executions.values()]).toEqual([1, 1, 1, 1]);
  });
});

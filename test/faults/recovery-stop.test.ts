/**
 * A run that comes back after it was taken over (real processes, SIGSTOP / SIGCONT), on a standalone server and on
 * Redis Cluster (run by `npm run test:faults`).
 *
 * A child process runs a six-step leased graph. The test stops it (SIGSTOP, by pid) in the middle of a step, waits
 * until its lease has expired, and lets resumeCrashedRuns (in this process) resume the run. Then it continues the
 * child (SIGCONT):
 *
 * - after the recoverer finished and released the run: the child's invoke must fail with RunLeaseLostError, and the
 *   thread must be exactly as the recoverer left it (no checkpoint, write or step of the child after the stop);
 * - while the recoverer is still running: the child must fail the same way, and nothing it produced after the stop
 *   may reach the thread (the checkpointer refuses its writes: they carry the lease token that was taken over), so
 *   the history stays one line.
 */
import { randomInt } from "node:crypto";
import type { CheckpointTuple } from "@langchain/langgraph-checkpoint";
import { type LocalCluster, type LocalRedis, startCluster, startRedis } from "../../scripts/local-redis.js";
import type { RedisClient } from "../../src/client.js";
import { findCrashedRuns, RedisSaver, resumeCrashedRuns, withRunLease } from "../../src/index.js";
import { bundleProgram, type Child, programTarget, startProgramChild, stopAll } from "./recovery/processes.js";
import { buildStopGraph, STEPS, stopExecutionsKey } from "./recovery/stop-graph.js";

const LEASE_MS = 3_000;
const HEARTBEAT_MS = 500;
const CHILD_STEP_MS = 1_500;
const LIMIT_MS = 30_000;

describe("a stopped run that was taken over (real processes, SIGSTOP/SIGCONT)", () => {
  let program: { file: string; cleanup: () => void } | undefined;
  let standalone: LocalRedis | undefined;
  let cluster: LocalCluster | undefined;
  const clients: RedisClient[] = [];
  beforeAll(async () => {
    [program, standalone, cluster] = await Promise.all([
      bundleProgram("stop-program.ts"),
      startRedis(),
      startCluster(3),
    ]);
  }, 120_000);
  afterEach(async () => {
    await stopAll();
    await Promise.all(clients.splice(0).map((c) => c.quit().catch(() => c.disconnect())));
  });
  afterAll(async () => {
    program?.cleanup();
    await Promise.all([standalone?.stop(), cluster?.stop()]);
  });

  const setup = (onCluster: boolean) => {
    if (!program || !standalone || !cluster) throw new Error("the program or the servers did not start");
    const { client, config: target } = programTarget(onCluster, standalone.url, cluster.nodes);
    clients.push(client);
    const keyPrefix = `stop${randomInt(1e9)}`;
    const threadId = `th-${randomInt(1e9)}`;
    const childConfig = {
      ...target,
      keyPrefix,
      threadId,
      leaseMs: LEASE_MS,
      heartbeatMs: HEARTBEAT_MS,
      stepMs: CHILD_STEP_MS,
    };
    return { file: program.file, client, keyPrefix, threadId, childConfig };
  };

  /** Starts the child, stops it inside step s3, and waits until recovery sees its run as crashed. */
  async function stopInsideAStep(onCluster: boolean, recovererStepMs: number, onRecovererPhase?: (p: string) => void) {
    const { file, client, keyPrefix, threadId, childConfig } = setup(onCluster);
    const child = startProgramChild(file, [JSON.stringify(childConfig)]);
    await waitForLine(child, /^N start s3$/);
    const tag = (child.lines.find((l) => l.startsWith("R ")) ?? "").slice(2);
    // Stop it once s3 has recorded its start (its only side effect before it sleeps), so everything after the stop
    // is what the child must not do.
    const executions = stopExecutionsKey(keyPrefix, threadId);
    await waitFor(async () => (await client.lrange(executions, 0, -1)).includes(`s3|${tag}`), "s3 to start");
    child.kill("SIGSTOP");
    const recovererGraph = buildStopGraph({
      client,
      keyPrefix,
      tag: "recoverer",
      stepMs: recovererStepMs,
      ...(onRecovererPhase ? { onPhase: onRecovererPhase } : {}),
    });
    const app = withRunLease(recovererGraph, { client, keyPrefix, leaseMs: 10_000, owner: "recoverer" });
    await waitFor(async () => (await findCrashedRuns(app)).some((run) => run.threadId === threadId), "lease expiry");
    const saver = new RedisSaver({ client, keyPrefix });
    return { child, tag, app, saver, client, keyPrefix, threadId };
  }

  async function history(saver: RedisSaver, threadId: string): Promise<CheckpointTuple[]> {
    const out: CheckpointTuple[] = [];
    for await (const tuple of saver.list({ configurable: { thread_id: threadId } })) out.push(tuple);
    return out;
  }

  /** Every checkpoint's parent is the next older one: the history is one line, never forked. */
  function expectOneLine(tuples: readonly CheckpointTuple[]): void {
    for (let i = 0; i + 1 < tuples.length; i++) {
      expect(tuples[i]?.parentConfig?.configurable?.checkpoint_id).toBe(tuples[i + 1]?.checkpoint.id);
    }
    expect(tuples.at(-1)?.parentConfig).toBeUndefined();
  }

  /** The outputs of the child's steps from s3 on (the one it was stopped in, and later ones) appear nowhere. */
  function expectNothingOfTheChildAfterTheStop(tuples: readonly CheckpointTuple[], tag: string): void {
    const stored = JSON.stringify(tuples.map((t) => [t.checkpoint.channel_values, t.pendingWrites]));
    expect(stored).toContain(`s2@${tag}`);
    for (const step of STEPS.slice(2)) expect(stored).not.toContain(`${step}@${tag}`);
  }

  describe.each([
    ["standalone", false],
    ["cluster", true],
  ] as const)("on %s", (_name, onCluster) => {
    it("continued after the recoverer finished the run: RunLeaseLostError, and nothing written", async () => {
      const { child, tag, app, saver, client, keyPrefix, threadId } = await stopInsideAStep(onCluster, 20);
      const report = await resumeCrashedRuns(app);
      expect(report.resumed).toBe(1);
      const before = await history(saver, threadId);
      const executionsBefore = await client.lrange(stopExecutionsKey(keyPrefix, threadId), 0, -1);

      child.kill("SIGCONT");
      await waitForLine(child, /^(OK|ERR )/);
      const result = child.lines.find((l) => /^(OK|ERR )/.test(l));
      expect(result).toMatch(/^ERR RunLeaseLostError /);
      await child.exited;

      const after = await history(saver, threadId);
      expect(after.map((t) => t.checkpoint.id)).toEqual(before.map((t) => t.checkpoint.id));
      expect(after.map((t) => t.pendingWrites)).toEqual(before.map((t) => t.pendingWrites));
      expect(await client.lrange(stopExecutionsKey(keyPrefix, threadId), 0, -1)).toEqual(executionsBefore);
      expectOneLine(after);
      expectNothingOfTheChildAfterTheStop(after, tag);
      const finalState = (await app.getState({ configurable: { thread_id: threadId } })).values as { by: string[] };
      expect(finalState.by).toEqual([`s1@${tag}`, `s2@${tag}`, ...STEPS.slice(2).map((s) => `${s}@recoverer`)]);
      // The run is done: no lease entry is left for recovery to resume.
      expect(await findCrashedRuns(app)).toEqual([]);
    });

    it("continued while the recoverer runs it: RunLeaseLostError, and its writes are refused", async () => {
      let recovererStarted: () => void = () => {};
      const started = new Promise<void>((resolve) => {
        recovererStarted = resolve;
      });
      const { child, tag, app, saver, threadId } = await stopInsideAStep(onCluster, 600, (phase) => {
        if (phase.startsWith("start ")) recovererStarted();
      });
      const resuming = resumeCrashedRuns(app);
      await started;
      child.kill("SIGCONT");
      await waitForLine(child, /^(OK|ERR )/);
      expect(child.lines.find((l) => /^(OK|ERR )/.test(l))).toMatch(/^ERR RunLeaseLostError /);
      const report = await resuming;
      expect(report.resumed).toBe(1);

      const after = await history(saver, threadId);
      expectOneLine(after);
      expectNothingOfTheChildAfterTheStop(after, tag);
      const finalState = (await app.getState({ configurable: { thread_id: threadId } })).values as { by: string[] };
      expect(finalState.by).toEqual([`s1@${tag}`, `s2@${tag}`, ...STEPS.slice(2).map((s) => `${s}@recoverer`)]);
    });
  });
});

function waitForLine(child: Child, pattern: RegExp, limitMs = LIMIT_MS): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + limitMs;
    const poll = () => {
      if (child.lines.some((l) => pattern.test(l))) return resolve();
      if (!child.alive || Date.now() > deadline) {
        return reject(new Error(`no line ${pattern} from ${child.pid}; it printed: ${child.lines.join(" | ")}`));
      }
      setTimeout(poll, 20);
    };
    poll();
  });
}

async function waitFor(check: () => Promise<boolean>, what: string, limitMs = LIMIT_MS): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

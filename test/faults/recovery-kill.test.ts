/**
 * The recovery kill test, with real processes (run by `npm run test:faults`).
 *
 * Worker processes run a six-step graph (one parallel superstep, one guarded node) on several threads each and are
 * killed with SIGKILL at random moments: after a random number of the phase markers they print (node start/end,
 * put and putWrites start / stored / end) plus a random few milliseconds, so kills land before, inside and after
 * put/putWrites. Three recoverer processes run startRecoveryWorker the whole time. At the end:
 *
 * - every thread finished, with the final state of a run that never crashed;
 * - no step whose checkpoint or writes were stored before the kill ran again (executions are recorded in Redis by
 *   thread, task and the checkpoint they ran from; "stored" comes from markers printed only after Redis answered);
 * - the output kept for each node is that of its last execution (so no stored output was re-run and dropped);
 * - no run was resumed by two recoverers.
 *
 * It runs with 200 kills on the standalone server, and with 40 on the Redis Cluster. KILL_TEST_KILLS,
 * KILL_TEST_CLUSTER_KILLS, KILL_TEST_LANES and KILL_TEST_THREADS_PER_WORKER override the sizes.
 */
import { randomInt } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { MemorySaver } from "@langchain/langgraph";
import type { TestContext } from "vitest";
import { type LocalCluster, type LocalRedis, startCluster, startRedis } from "../../scripts/local-redis.js";
import { findCrashedRuns, RedisSaver, withRunLease } from "../../src/index.js";
import { runLeaseHoldersKey, runLeaseIndexKey, THREAD_BUCKETS } from "../../src/keys.js";
import { recordCounts } from "../helpers/counts.js";
import { leaseCounts } from "../recovery/helpers.js";
import { writesWithoutCheckpoint } from "../saver/retention-helpers.js";
import {
  buildKillGraph,
  domainState,
  executionsKey,
  inputFor,
  type KillStateValues,
  NODES,
  type NodeName,
} from "./recovery/graph.js";
import { guardNode, makeSaver } from "./recovery/platform.js";
import { bundleProgram, type Child, programTarget, startProgramChild, stopAll } from "./recovery/processes.js";

const KILLS = Number(process.env.KILL_TEST_KILLS ?? 200);
const LANES = Number(process.env.KILL_TEST_LANES ?? 3);
const THREADS_PER_WORKER = Number(process.env.KILL_TEST_THREADS_PER_WORKER ?? 4);
const CLUSTER_KILLS = Number(process.env.KILL_TEST_CLUSTER_KILLS ?? 40);
const RECOVERERS = 3;
/** Phase markers one thread prints in a full run (measured: about 62); kills are drawn over this range. */
const MARKERS_PER_THREAD = 62;
const LEASE_MS = 3_000;
const HEARTBEAT_MS = 500;
const TRIAL_LIMIT_MS = 60_000;
const SETTLE_LIMIT_MS = 180_000;

/** What the parent learned about one thread from the markers of the worker that ran it. */
interface ThreadRecord {
  readonly threadId: string;
  readonly inputIndex: number;
  workerTag: string;
  /** Task ids whose writes Redis acknowledged before the kill. */
  readonly storedTasks: Set<string>;
  /** Parent checkpoint ids of checkpoints Redis acknowledged before the kill: tasks run from them are stored. */
  readonly storedParents: Set<string>;
  lastPhase: string;
  doneBeforeKill: boolean;
}

function killCategory(line: string | undefined): string {
  if (line === undefined || line.startsWith("R ")) return "before the first step";
  if (line === "D") return "after every thread finished";
  if (line.startsWith("T ")) return "after a thread finished";
  const phase = line.split(" ")[2] ?? "";
  return (
    {
      "node-start": "inside a node",
      "node-end": "after a node returned",
      "put-start": "inside put, before Redis stored it",
      "put-stored": "inside put, after Redis stored it",
      "put-end": "after put",
      "writes-start": "inside putWrites, before Redis stored them",
      "writes-stored": "inside putWrites, after Redis stored them",
      "writes-end": "after putWrites",
    }[phase] ?? `other (${line})`
  );
}

/** Where the test runs: servers it started itself (stopped by pid in afterAll). */
interface Target {
  readonly program: string;
  readonly standalone: LocalRedis;
  readonly cluster: LocalCluster;
}

describe("recovery kill test (real processes, SIGKILL)", () => {
  // Bundled once per test run: plain node starts the bundle far faster than a TypeScript loader would.
  let program: { file: string; cleanup: () => void } | undefined;
  let standalone: LocalRedis | undefined;
  let cluster: LocalCluster | undefined;
  beforeAll(async () => {
    [program, standalone, cluster] = await Promise.all([bundleProgram(), startRedis(), startCluster(3)]);
  }, 120_000);
  afterAll(async () => {
    program?.cleanup();
    await Promise.all([standalone?.stop(), cluster?.stop()]);
  });
  const target = (): Target => {
    if (!program || !standalone || !cluster) throw new Error("the program or the servers did not start");
    return { program: program.file, standalone, cluster };
  };

  it(
    `standalone, ${KILLS} kills, ${RECOVERERS} recoverers: every thread finishes as if it never crashed`,
    (context) => killTest(context, target(), false, KILLS),
    1_800_000,
  );
  it(
    `cluster, ${CLUSTER_KILLS} kills, ${RECOVERERS} recoverers: every thread finishes as if it never crashed`,
    (context) => killTest(context, target(), true, CLUSTER_KILLS),
    1_800_000,
  );
});

async function killTest(
  context: Pick<TestContext, "task">,
  { program: file, standalone, cluster }: Target,
  onCluster: boolean,
  wanted: number,
): Promise<void> {
  const started = Date.now();
  const keyPrefix = `kill${randomInt(1e9)}`;
  const { client, config: target } = programTarget(onCluster, standalone.url, cluster.nodes);
  const common = {
    ...target,
    keyPrefix,
    leaseMs: LEASE_MS,
    heartbeatMs: HEARTBEAT_MS,
    maxNodeDelayMs: 15,
    maxSaverDelayMs: 4,
  };
  const threads = new Map<string, ThreadRecord>();
  const killsByCategory = new Map<string, number>();
  const threadsByLastPhase = new Map<string, number>();
  const recovererLines: string[][] = [];
  let kills = 0;
  let nextThread = 0;
  const failures: string[] = [];

  try {
    // ---- three recoverers, running for the whole test ----
    const recoverers: Child[] = [];
    for (let i = 0; i < RECOVERERS; i++) {
      const child = startProgramChild(file, [
        "recover",
        JSON.stringify({ ...common, intervalMs: 150, concurrency: 4 }),
      ]);
      recoverers.push(child);
      recovererLines.push(child.lines);
    }
    await Promise.all(recoverers.map((r) => waitForLine(r, /^R /)));

    // ---- workers, killed at random moments ----
    const trial = async (): Promise<void> => {
      const ids = Array.from({ length: THREADS_PER_WORKER }, () => nextThread++);
      const input = ids.map((index) => ({ threadId: `th${index}`, ...inputFor(index) }));
      for (const index of ids) {
        threads.set(`th${index}`, {
          threadId: `th${index}`,
          inputIndex: index,
          workerTag: "",
          storedTasks: new Set(),
          storedParents: new Set(),
          lastPhase: "not started",
          doneBeforeKill: false,
        });
      }
      const killAfter = randomInt(0, MARKERS_PER_THREAD * THREADS_PER_WORKER + 1);
      const child = startProgramChild(file, ["run", JSON.stringify({ ...common, threads: input })]);
      let markers = 0;
      let ready = false;
      let killScheduled = false;
      const scheduleKill = () => {
        if (killScheduled) return;
        killScheduled = true;
        setTimeout(() => child.kill("SIGKILL"), randomInt(0, 8));
      };
      child.onLine = (line) => {
        const [kind, threadId, phase, a, b] = line.split(" ");
        if (kind === "R") {
          ready = true;
          for (const entry of input) {
            const record = threads.get(entry.threadId);
            if (record) record.workerTag = threadId ?? "";
          }
        } else if (kind === "P" && threadId) {
          markers += 1;
          const record = threads.get(threadId);
          if (record && phase) {
            record.lastPhase = phase;
            if (phase === "writes-stored" && a) record.storedTasks.add(a);
            if (phase === "put-stored" && b && b !== "-") record.storedParents.add(b);
          }
        } else if (kind === "T" && threadId) {
          const record = threads.get(threadId);
          if (record) {
            record.doneBeforeKill = true;
            record.lastPhase = "done";
          }
        }
        if (ready && (markers >= killAfter || kind === "D")) scheduleKill();
      };
      const limit = setTimeout(() => child.kill("SIGKILL"), TRIAL_LIMIT_MS);
      const { signal, stderr } = await child.exited;
      clearTimeout(limit);
      if (signal !== "SIGKILL" || !killScheduled) {
        failures.push(`worker ${child.pid} ended by ${signal ?? "exit"} without a scheduled kill:\n${stderr}`);
        return;
      }
      kills += 1;
      const category = killCategory(child.lines.at(-1));
      killsByCategory.set(category, (killsByCategory.get(category) ?? 0) + 1);
      for (const entry of input) {
        const phase = threads.get(entry.threadId)?.lastPhase ?? "?";
        threadsByLastPhase.set(phase, (threadsByLastPhase.get(phase) ?? 0) + 1);
      }
    };
    let launched = 0;
    await Promise.all(
      Array.from({ length: LANES }, async () => {
        while (launched < wanted && failures.length === 0) {
          const gone = recoverers.find((r) => !r.alive);
          if (gone) {
            failures.push(`recoverer ${gone.pid} exited early: ${(await gone.exited).stderr}`);
            break;
          }
          launched += 1;
          await trial();
        }
      }),
    );
    expect(failures).toEqual([]);
    const killsDone = Date.now();

    // ---- wait until every run is finished or has nothing to resume (bounded) ----
    const reader = buildKillGraph({
      checkpointer: makeSaver(client, keyPrefix),
      client,
      keyPrefix,
      processTag: "reader",
      maxDelayMs: 0,
    });
    const deadline = Date.now() + SETTLE_LIMIT_MS;
    const describePending = async () => {
      const leases: string[] = [];
      const holders: Record<string, string> = {};
      for (let bucket = 0; bucket < THREAD_BUCKETS; bucket++) {
        leases.push(
          ...(await client.zrangebyscore(runLeaseIndexKey(keyPrefix, "orders", bucket), "-inf", "+inf", "WITHSCORES")),
        );
        Object.assign(holders, await client.hgetall(runLeaseHoldersKey(keyPrefix, "orders", bucket)));
      }
      const pending: string[] = [];
      for (const { threadId } of threads.values()) {
        const state = await reader.getState({ configurable: { thread_id: threadId } });
        if (state.next.length > 0) pending.push(`${threadId} next=${state.next.join(",")}`);
      }
      const tails = recovererLines.map((lines) => lines.slice(-5).join(" | "));
      return [
        `index: ${leases.join(" ")} (server time ${(await client.time())[0]}) holders ${JSON.stringify(holders)}`,
        `pending: ${pending.slice(0, 20).join("; ")}`,
        ...tails,
      ].join("\n");
    };
    const settled = async () => {
      if ((await leaseCounts(client, keyPrefix, "orders")).index > 0) return false;
      for (const { threadId } of threads.values()) {
        const state = await reader.getState({ configurable: { thread_id: threadId } });
        if (state.next.length > 0) return false;
      }
      return true;
    };
    while (!(await settled())) {
      const gone = recoverers.find((r) => !r.alive);
      if (gone) throw new Error(`recoverer ${gone.pid} exited early: ${(await gone.exited).stderr}`);
      if (Date.now() > deadline) {
        throw new Error(`runs still pending ${SETTLE_LIMIT_MS} ms after the last kill:\n${await describePending()}`);
      }
      await sleep(250);
    }
    const settledAt = Date.now();

    // ---- threads killed before their first checkpoint: nothing to resume, so their caller runs them again ----
    const rerunner = withRunLease(
      buildKillGraph({
        checkpointer: makeSaver(client, keyPrefix),
        client,
        keyPrefix,
        processTag: "rerun",
        maxDelayMs: 0,
        guardCharge: (node) => guardNode(node, client, keyPrefix),
      }),
      { client, keyPrefix, leaseMs: LEASE_MS },
    );
    const neverCheckpointed: string[] = [];
    for (const record of threads.values()) {
      const state = await reader.getState({ configurable: { thread_id: record.threadId } });
      if (state.config.configurable?.checkpoint_id === undefined) {
        neverCheckpointed.push(record.threadId);
        await rerunner.invoke(inputFor(record.inputIndex), { configurable: { thread_id: record.threadId } });
      }
    }
    expect(await findCrashedRuns(rerunner)).toEqual([]);

    // ---- stop the recoverers cleanly ----
    for (const r of recoverers) r.kill("SIGTERM");
    const ends = await Promise.all(recoverers.map((r) => r.exited));
    for (const end of ends) expect(end, end.stderr).toMatchObject({ code: 0 });

    // ---- the no-crash reference, once per input ----
    const referenceGraph = buildKillGraph({
      checkpointer: new MemorySaver(),
      client,
      keyPrefix: `${keyPrefix}ref`,
      processTag: "reference",
      maxDelayMs: 0,
    });
    const references = new Map<string, ReturnType<typeof domainState>>();
    const reference = async (index: number) => {
      const input = inputFor(index);
      const key = JSON.stringify(input);
      let value = references.get(key);
      if (!value) {
        const values = (await referenceGraph.invoke(input, {
          configurable: { thread_id: `ref-${key}` },
        })) as KillStateValues;
        value = domainState(values);
        references.set(key, value);
      }
      return value;
    };

    // ---- checks ----
    const resumeLines = recovererLines.flatMap((lines, i) =>
      lines.filter((l) => l.startsWith("RES ")).map((l) => ({ recoverer: i, fields: l.split(" ") })),
    );
    const claimedResumes = resumeLines.filter((r) => r.fields[1] === "resumed" || r.fields[1] === "failed");
    const failedResumes = resumeLines.filter((r) => r.fields[1] === "failed");
    const errors = recovererLines.flat().filter((l) => l.startsWith("ERR "));
    const resumesPerThread = new Map<string, number>();
    for (const r of claimedResumes) {
      const thread = r.fields[2] ?? "";
      resumesPerThread.set(thread, (resumesPerThread.get(thread) ?? 0) + 1);
    }

    let rerunAllowed = 0;
    let storedRerun = 0;
    let staleOutputs = 0;
    let stateMismatches = 0;
    let unfinished = 0;
    let twoRecoverers = 0;
    for (const record of threads.values()) {
      const config = { configurable: { thread_id: record.threadId } };
      const state = await reader.getState(config);
      const values = state.values as KillStateValues;
      if (state.next.length > 0 || !String(values.status ?? "").startsWith("closed:")) {
        unfinished += 1;
        failures.push(
          `${record.threadId} did not finish: next=${state.next.join(",")} ${JSON.stringify(state.values)} ${JSON.stringify(state.metadata)} ${JSON.stringify(state.config)}`,
        );
        continue;
      }
      if (JSON.stringify(domainState(values)) !== JSON.stringify(await reference(record.inputIndex))) {
        stateMismatches += 1;
        failures.push(`${record.threadId} ended in ${JSON.stringify(domainState(values))}`);
      }
      const executions = (await client.lrange(executionsKey(keyPrefix, record.threadId), 0, -1)).map((entry) => {
        const [node, taskId, checkpointId, tag] = entry.split("|");
        return { node: node as NodeName, taskId: taskId ?? "", checkpointId: checkpointId ?? "", tag: tag ?? "" };
      });
      const later = executions.filter((e) => e.tag !== record.workerTag);
      for (const e of later) {
        if (record.storedTasks.has(e.taskId) || record.storedParents.has(e.checkpointId)) {
          storedRerun += 1;
          failures.push(`${record.threadId}: ${e.node} (task ${e.taskId}) was stored before the kill and ran again`);
        }
      }
      const recovererTags = new Set(later.filter((e) => e.tag.startsWith("recover-")).map((e) => e.tag));
      if (recovererTags.size > 1) {
        twoRecoverers += 1;
        failures.push(`${record.threadId} was run by several recoverers: ${[...recovererTags].join(", ")}`);
      }
      const audit = values.audit;
      for (const node of NODES) {
        const producers = audit.filter((a) => a.startsWith(`${node}@`)).map((a) => a.slice(node.length + 1));
        const runs = executions.filter((e) => e.node === node);
        if (runs.length > 1) rerunAllowed += runs.length - 1;
        if (producers.length !== 1 || runs.at(-1)?.tag !== producers[0]) {
          staleOutputs += 1;
          failures.push(
            `${record.threadId}: ${node} kept the output of ${producers.join(",")} but ran last in ${runs.at(-1)?.tag}`,
          );
        }
      }
    }
    for (const [thread, count] of resumesPerThread) {
      if (count > 1) failures.push(`${thread} was resumed ${count} times`);
    }
    // A kill between a step's putWrites and its put strands writes under an id no checkpoint gets (the resumed run
    // puts the step under a new one); pruning each thread to its latest checkpoint removes them, state unchanged.
    const threadIds = [...threads.values()].map((t) => t.threadId);
    let stranded = 0;
    const before = new Map<string, unknown>();
    for (const threadId of threadIds) {
      stranded += (await writesWithoutCheckpoint(client, keyPrefix, threadId)).length;
      before.set(threadId, (await reader.getState({ configurable: { thread_id: threadId } })).values);
    }
    const pruned = await new RedisSaver({ client, keyPrefix }).prune(threadIds);
    for (const threadId of threadIds) {
      const left = await writesWithoutCheckpoint(client, keyPrefix, threadId);
      if (left.length > 0) failures.push(`${threadId}: writes without a checkpoint after prune: ${left.length}`);
      const after = (await reader.getState({ configurable: { thread_id: threadId } })).values;
      if (JSON.stringify(after) !== JSON.stringify(before.get(threadId)))
        failures.push(`${threadId}: prune changed the state`);
    }

    const stats = recovererLines.map((lines) => lines.find((l) => l.startsWith("S ")) ?? "S {}");
    const skipped = resumeLines.filter((r) => r.fields[1] === "skipped");
    const doneBeforeKill = [...threads.values()].filter((t) => t.doneBeforeKill).length;
    const summary = [
      `recovery kill test${onCluster ? " (Redis Cluster)" : ""}: ${kills} SIGKILLs over ${threads.size} threads (${THREADS_PER_WORKER} per worker process, ${LANES} workers at a time), ${RECOVERERS} recoverers`,
      "  kills by the last phase the killed process printed:",
      ...[...killsByCategory].sort((a, b) => b[1] - a[1]).map(([c, n]) => `    ${String(n).padStart(4)}  ${c}`),
      "  threads by their own last phase at the kill:",
      ...[...threadsByLastPhase].sort((a, b) => b[1] - a[1]).map(([c, n]) => `    ${String(n).padStart(4)}  ${c}`),
      `  threads finished before the kill: ${doneBeforeKill}; killed before their first checkpoint (run again by their caller): ${neverCheckpointed.length}`,
      `  resumed by a recoverer: ${claimedResumes.length - failedResumes.length} (failed again: ${failedResumes.length}); skipped by a recoverer: ${skipped.length} (${countBy(skipped.map((s) => s.fields[4] ?? "?"))})`,
      `  resumes per recoverer: ${recovererLines.map((lines) => lines.filter((l) => /^RES (resumed|failed) /.test(l)).length).join(", ")}; worker stats: ${stats.map((s) => s.slice(2)).join(" ")}`,
      `  executions repeated (the step was running and not stored at the kill): ${rerunAllowed}`,
      `  writes stranded by kills between putWrites and put: ${stranded} checkpoint ids; removed by prune to the latest (${pruned.writes} writes removed with ${pruned.checkpoints} checkpoints)`,
      `  violations: unfinished ${unfinished}, state differs from a no-crash run ${stateMismatches}, stored step ran again ${storedRerun}, output not from the last execution ${staleOutputs}, run by two recoverers ${twoRecoverers}, resumed twice ${[...resumesPerThread.values()].filter((n) => n > 1).length}, recoverer errors ${errors.length}`,
      `  time: kills ${((killsDone - started) / 1000).toFixed(1)} s, settle ${((settledAt - killsDone) / 1000).toFixed(1)} s, total ${((Date.now() - started) / 1000).toFixed(1)} s`,
    ];
    console.log(summary.join("\n"));
    const storedChecked = [...threads.values()].reduce((n, t) => n + t.storedTasks.size + t.storedParents.size, 0);
    recordCounts(context, {
      faultsInjected: kills,
      acknowledgedWritesChecked: storedChecked,
      inputsTried: threads.size,
      failures: failures.length,
    });

    expect(kills).toBe(wanted);
    expect(errors).toEqual([]);
    expect(failedResumes).toEqual([]);
    expect(failures.slice(0, 20)).toEqual([]);
    // The test is only meaningful if kills really interrupted runs that then had to be resumed.
    expect(claimedResumes.length).toBeGreaterThan(wanted / 4);
    expect(rerunAllowed).toBeGreaterThan(0);
  } finally {
    await stopAll();
    await client.quit().catch(() => client.disconnect());
  }
}

function waitForLine(child: Child, pattern: RegExp, limitMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + limitMs;
    const poll = () => {
      if (child.lines.some((l) => pattern.test(l))) return resolve();
      if (!child.alive || Date.now() > deadline) return reject(new Error(`no line ${pattern} from ${child.pid}`));
      setTimeout(poll, 20);
    };
    poll();
  });
}

function countBy(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([v, n]) => `${v} ${n}`).join(", ") || "none";
}

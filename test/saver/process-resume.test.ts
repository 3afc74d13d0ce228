/**
 * A thread started by one OS process, killed (SIGKILL, by pid) in the middle of a node, is resumed by another
 * process with invoke(null): the finished step is not re-run, the interrupted one runs again, the rest completes.
 * A kill between a step's writes and the put of their checkpoint leaves writes no checkpoint gets; prune removes them.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { RedisSaver } from "../../src/index.js";
import { clusterNodes, newCluster, newRedis, redisUrl, testPrefix } from "../helpers/redis.js";
import { writesWithoutCheckpoint } from "./retention-helpers.js";

const root = join(import.meta.dirname, "..", "..");
const worker = join(import.meta.dirname, "fixtures", "resume-worker.ts");
const started = new Set<ChildProcess>();

afterEach(() => {
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined)
      process.kill(child.pid, "SIGKILL");
  }
  started.clear();
});

function startWorker(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ["--import", "tsx", worker], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return { child, output: () => `${stdout}${stderr ? `\n[stderr]\n${stderr}` : ""}` };
}

/** Resolves when `predicate` holds for the worker's stdout; rejects if it exits first or the bound passes. */
function waitForOutput(
  worker: { child: ChildProcess; output: () => string },
  predicate: (stdout: string) => boolean,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (predicate(worker.output())) {
        clearInterval(timer);
        resolve();
      } else if (worker.child.exitCode !== null || Date.now() > deadline) {
        clearInterval(timer);
        reject(new Error(`worker did not produce the expected output:\n${worker.output()}`));
      }
    }, 20);
    const deadline = Date.now() + timeoutMs;
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

const deployments = [
  { name: "standalone", env: () => ({ REDIS_URL: redisUrl() }), connect: newRedis },
  {
    name: "cluster",
    env: () => ({
      CLUSTER_NODES: clusterNodes()
        .map((n) => `${n.host}:${n.port}`)
        .join(","),
    }),
    connect: newCluster,
  },
];

/** Starts a worker in `mode`, waits for `marker` in its output, and kills it there (SIGKILL, by pid). */
async function killAt(env: Record<string, string>, mode: string, marker: string): Promise<void> {
  const first = startWorker({ ...env, MODE: mode });
  await waitForOutput(first, (out) => out.includes(marker), 30_000);
  if (first.child.pid !== undefined) process.kill(first.child.pid, "SIGKILL");
  await exited(first.child);
}

/** Runs a worker in MODE=resume (invoke(null)) to its exit: its exit code and output. */
async function resume(env: Record<string, string>): Promise<{ code: number | null; output: string; pid?: number }> {
  const second = startWorker({ ...env, MODE: "resume" });
  const code = await Promise.race([
    exited(second.child),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(second.output())), 30_000)),
  ]);
  return { code, output: second.output(), pid: second.child.pid };
}

/** Resumes the thread in a new worker (invoke(null)); its final state and pid once it exited with 0. */
async function resumeToEnd(env: Record<string, string>): Promise<{ log: string[]; pid: number | undefined }> {
  const second = await resume(env);
  expect(second.code, second.output).toBe(0);
  const finalState = JSON.parse(second.output.trim().split("\n").at(-1) ?? "{}") as { log: string[] };
  return { log: finalState.log, pid: second.pid };
}

describe.each(deployments)("resume in another process ($name)", ({ env, connect }) => {
  it("resumes a thread whose first process was killed mid-node", async () => {
    const client = connect();
    const keyPrefix = testPrefix("proc");
    const threadId = testPrefix("thread");
    const common = { ...env(), KEY_PREFIX: keyPrefix, THREAD_ID: threadId };

    await killAt(common, "start", "IN_STEP2");
    const resumed = await resumeToEnd(common);
    expect(resumed.log).toEqual(["step1", `step2:${resumed.pid}`, "step3"]);

    const runs = await Promise.all(
      ["step1", "step2", "step3"].map((node) => client.get(`${keyPrefix}:runs:{${threadId}}:${node}`)),
    );
    expect(runs).toEqual(["1", "2", "1"]);
  });

  it("a process whose clock is behind is refused (ClockSkewError); the thread stays readable", async () => {
    const client = connect();
    const keyPrefix = testPrefix("skew");
    const threadId = testPrefix("thread");
    const common = { ...env(), KEY_PREFIX: keyPrefix, THREAD_ID: threadId };
    const saver = new RedisSaver({ client, keyPrefix });
    const config = { configurable: { thread_id: threadId } };

    const stored = async () => {
      const ids: string[] = [];
      for await (const tuple of saver.list(config)) ids.push(tuple.checkpoint.id);
      return ids;
    };

    await killAt(common, "start", "IN_STEP2");
    const before = await saver.getTuple(config);
    const storedBefore = await stored();
    // A host a minute behind: its checkpoint ids would sort before the parent's and never be read as the latest.
    const behind = await resume({ ...common, CLOCK_OFFSET_MS: "-60000" });
    expect(behind.code, behind.output).toBe(2);
    const [, name, behindMs] = behind.output.match(/ERROR (\w+) (\d+)/) ?? [];
    expect(name, behind.output).toBe("ClockSkewError");
    expect(Number(behindMs)).toBeGreaterThan(50_000);
    const after = await saver.getTuple(config);
    expect(after?.checkpoint.id).toBe(before?.checkpoint.id);
    // Nothing of the refused run's checkpoints was written.
    expect(await stored()).toEqual(storedBefore);

    // A host with a right clock resumes it (step2 may have left its write with the refused run's parent).
    const resumed = await resumeToEnd(common);
    expect(resumed.log).toHaveLength(3);
    expect([resumed.log[0], resumed.log[1]?.startsWith("step2:"), resumed.log[2]]).toEqual(["step1", true, "step3"]);
    const latest = await saver.getTuple(config);
    expect(latest?.checkpoint.channel_values.log).toEqual(resumed.log);
  });

  it("a kill between a step's writes and its checkpoint's put strands the writes; prune removes them", async () => {
    const client = connect();
    const keyPrefix = testPrefix("strand");
    const threadId = testPrefix("thread");
    const common = { ...env(), KEY_PREFIX: keyPrefix, THREAD_ID: threadId };

    await killAt(common, "strand", "WRITES_AHEAD");
    // The third step's writes (and possibly the next step's) wait for a checkpoint that will never be put.
    const stranded = await writesWithoutCheckpoint(client, keyPrefix, threadId);
    expect(stranded.length).toBeGreaterThan(0);

    const resumed = await resumeToEnd(common);
    expect(resumed.log).toEqual(["step1", `step2:${resumed.pid}`, "step3"]);
    // The resumed run put those steps under new ids: the stranded writes are still there until a trim.
    expect(await writesWithoutCheckpoint(client, keyPrefix, threadId)).toEqual(stranded);

    const saver = new RedisSaver({ client, keyPrefix });
    const pruned = await saver.prune([threadId]);
    expect(pruned.writes).toBeGreaterThan(0);
    expect(await writesWithoutCheckpoint(client, keyPrefix, threadId)).toEqual([]);
    const latest = await saver.getTuple({ configurable: { thread_id: threadId } });
    expect(latest?.checkpoint.channel_values.log).toEqual(resumed.log);
  });
});

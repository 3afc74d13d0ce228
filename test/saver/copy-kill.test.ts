/**
 * copyThread in a real process killed with SIGKILL (by pid) at different moments of the copy: the destination is
 * always either absent (no key of it exists) or complete (it reads exactly like the source), never partial, and a
 * copy started again afterwards completes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { RedisSaver } from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { recordCounts } from "../helpers/counts.js";
import { clusterNodes, newCluster, newRedis, redisUrl, testPrefix } from "../helpers/redis.js";
import { collect, makeCheckpoint } from "./saver-helpers.js";

const root = join(import.meta.dirname, "..", "..");
const worker = join(import.meta.dirname, "fixtures", "copy-worker.ts");
const started = new Set<ChildProcess>();

afterEach(() => {
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, "SIGKILL");
    }
  }
  started.clear();
});

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

/** Starts the worker; resolves with it once it printed `ready` (bounded). */
function startCopy(
  env: Record<string, string>,
  ready = "COPYING",
): Promise<{ child: ChildProcess; stdout: () => string }> {
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
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    const timer = setInterval(() => {
      if (stdout.includes(ready)) {
        clearInterval(timer);
        resolve({ child, stdout: () => stdout });
      } else if (child.exitCode !== null || Date.now() > deadline) {
        clearInterval(timer);
        reject(new Error(`copy worker did not start:\n${stdout}\n${stderr}`));
      }
    }, 2);
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

describe.each(deployments)("copyThread killed mid-copy ($name)", ({ env, connect }) => {
  it("leaves the destination absent or complete, and a second copy completes", async (context) => {
    const client = connect();
    const keyPrefix = testPrefix("cpk");
    const saver = new RedisSaver({ client, keyPrefix });
    // A source big enough (about 6 MB) that reading and writing it takes a while.
    let parent: string | undefined;
    for (let i = 0; i < 150; i++) {
      const checkpoint = makeCheckpoint({ step: i, text: `${i}:${"x".repeat(40_000)}` });
      const config = await saver.put(
        { configurable: { thread_id: "source", checkpoint_ns: "", checkpoint_id: parent } },
        checkpoint,
        { source: "loop", step: i, parents: {} },
        checkpoint.channel_versions,
      );
      await saver.putWrites(config, [["step", i]], `task-${i}`);
      parent = checkpoint.id;
    }
    const source = await collect(saver.list({ configurable: { thread_id: "source" } }));
    const asCopy = (threadId: string) =>
      source.map((t) => JSON.parse(JSON.stringify(t).replaceAll('"thread_id":"source"', `"thread_id":"${threadId}"`)));

    const outcomes = { absent: 0, complete: 0 };
    // "held": killed once the source is read, with the destination's write held back in the worker (a kill between
    // the two halves of the copy, however loaded the machine); then kills after a delay, wherever they land.
    const delaysMs = ["held", 0, 2, 5, 15, 40, 120] as const;
    for (const [round, delayMs] of delaysMs.entries()) {
      const destination = `copy-${round}`;
      const held = delayMs === "held";
      const copy = await startCopy(
        {
          ...env(),
          KEY_PREFIX: keyPrefix,
          SOURCE: "source",
          DESTINATION: destination,
          ...(held ? { HOLD_IMPORT: "1" } : {}),
        },
        held ? "IMPORTING" : "COPYING",
      );
      await new Promise((resolve) => setTimeout(resolve, held ? 0 : delayMs));
      if (copy.child.pid !== undefined && copy.child.exitCode === null) process.kill(copy.child.pid, "SIGKILL");
      await exited(copy.child);

      const keys = saverThreadKeys(keyPrefix, destination).all;
      const existing = await client.exists(...keys);
      if (existing === 0) {
        outcomes.absent++;
        // Absent: running the copy again completes it.
        await saver.copyThread("source", destination);
      } else {
        outcomes.complete++;
      }
      expect(await collect(saver.list({ configurable: { thread_id: destination } }))).toEqual(asCopy(destination));
    }
    recordCounts(context, { faultsInjected: delaysMs.length });
    expect(outcomes.absent + outcomes.complete).toBe(delaysMs.length);
    // The kills landed before the copy finished at least once (absent), so the test did test something: the held
    // round always does.
    expect(outcomes.absent).toBeGreaterThan(0);
  });
});

/**
 * Removing history from a long thread: how long the server is held. A thread of typical steps (a new messages value
 * and step counter each, one run id per 10 steps) is rolled back by one run (deleteForRuns), trimmed to its newest
 * 10 checkpoints (prune) and deleted (prune's "delete" strategy), each on a thread of its own; deleteForRuns also
 * with its blob check forced into one script (the check limit raised past the thread's length), as it ran before
 * the check was paged. Runs on a throwaway redis-server of its own, whose SLOWLOG it sets to log every command:
 * the longest script is what other clients wait behind.
 */
import { Redis } from "ioredis";
import { type LocalRedis, startRedis } from "../scripts/local-redis.js";
import { RedisSaver } from "../src/index.js";
import { createSaverContext } from "../src/saver/context.js";
import { deleteForRuns } from "../src/saver/delete-for-runs.js";
import type { BenchContext } from "./context.js";
import { CheckpointSequence, typicalStep } from "./payloads.js";
import type { Column } from "./results.js";
import { putStep, versionsOf } from "./saver.js";
import { nowMs } from "./timing.js";

const THREAD_CHECKPOINTS = 20_000;
const RUN_CHECKPOINTS = 10;

const COLUMNS: readonly Column[] = [
  { key: "operation", label: "Operation", kind: "text" },
  { key: "checkpoints", label: "Thread", kind: "int" },
  { key: "removed", label: "Checkpoints removed", kind: "int" },
  { key: "blobs", label: "Blobs removed", kind: "int" },
  { key: "scripts", label: "Scripts", kind: "int" },
  { key: "serverMs", label: "Server time (ms)", kind: "ms" },
  { key: "longestMs", label: "Longest script (ms)", kind: "ms" },
  { key: "wallMs", label: "Wall (ms)", kind: "ms" },
];

/**
 * Writes `count` typical steps on each thread (the threads side by side), run ids `<thread>-run-<n>` per
 * RUN_CHECKPOINTS steps: a run writes one thread only.
 */
async function buildThreads(saver: RedisSaver, threadIds: readonly string[], count: number): Promise<void> {
  await Promise.all(
    threadIds.map(async (threadId) => {
      const sequence = new CheckpointSequence(versionsOf(saver));
      for (let step = 0; step < count; step++) {
        const args = sequence.next(typicalStep(step));
        const metadata = { ...args.metadata, run_id: `${threadId}-run-${Math.floor(step / RUN_CHECKPOINTS)}` };
        await putStep(saver, threadId, { ...args, metadata });
      }
    }),
  );
}

/** Runs `operation` and reads what it cost the server: scripts run, their total and longest time. */
async function serverCost<T>(server: Redis, operation: () => Promise<T>) {
  await server.config("RESETSTAT");
  await server.slowlog("RESET");
  const started = nowMs();
  const result = await operation();
  const wallMs = nowMs() - started;
  const entries = (await server.slowlog("GET", -1)) as [number, number, number, string[]][];
  const scripts = entries.filter(([, , , args]) => /^eval/i.test(String(args[0])));
  const micros = scripts.map(([, , duration]) => Number(duration));
  return {
    result,
    scripts: scripts.length,
    serverMs: micros.reduce((sum, us) => sum + us, 0) / 1000,
    longestMs: Math.max(0, ...micros) / 1000,
    wallMs,
  };
}

export async function removalSection(ctx: BenchContext): Promise<void> {
  const count = ctx.iterations(THREAD_CHECKPOINTS, 2_000);
  const table = ctx.recorder.table(
    "removal",
    `Removing history from a ${count.toLocaleString("en-US")}-checkpoint thread: server time and the longest script`,
    COLUMNS,
  );
  ctx.progress.step("starting a throwaway redis-server for SLOWLOG");
  const local: LocalRedis = await startRedis();
  const server = new Redis(local.url, { maxRetriesPerRequest: 1 });
  try {
    await server.config("SET", "slowlog-log-slower-than", "0");
    await server.config("SET", "slowlog-max-len", "100000");
    const saver = new RedisSaver({ client: server, keyPrefix: "removal" });
    // The one-script check on a thread of its own prefix, under the same run ids.
    const oneScript = new RedisSaver({ client: server, keyPrefix: "removal-one" });
    ctx.progress.step(`building four ${count.toLocaleString("en-US")}-checkpoint threads`);
    await Promise.all([
      buildThreads(saver, ["rollback", "trim", "delete"], count),
      buildThreads(oneScript, ["rollback"], count),
    ]);
    await saver.getTuple({ configurable: { thread_id: "warm-up" } });
    // A run from the middle of the thread: its values are needed by nothing that stays.
    const middleRun = [`rollback-run-${Math.floor(count / RUN_CHECKPOINTS / 2)}`];
    const rows: [string, string, () => Promise<{ checkpoints: number; blobs: number }>][] = [
      ["deleteForRuns (10-checkpoint run)", "deleteForRuns", () => saver.deleteForRuns(middleRun)],
      [
        "deleteForRuns, blob check in one script",
        "deleteForRunsOneScript",
        () =>
          deleteForRuns(
            createSaverContext({
              client: server,
              keyPrefix: oneScript.keyPrefix,
              ttl: { refreshOnRead: false },
              serde: oneScript.serde,
              blobCheckLimit: Number.MAX_SAFE_INTEGER,
            }),
            middleRun,
          ),
      ],
      ["prune keepLast 10", "pruneKeepLast", () => saver.prune(["trim"], { keepLast: 10 })],
      ['prune strategy "delete"', "pruneDelete", () => saver.prune(["delete"], { strategy: "delete" })],
    ];
    for (const [operation, metric, run] of rows) {
      ctx.progress.step(operation);
      const cost = await serverCost(server, run);
      table.rows.push({
        operation,
        checkpoints: count,
        removed: cost.result.checkpoints,
        blobs: cost.result.blobs,
        scripts: cost.scripts,
        serverMs: cost.serverMs,
        longestMs: cost.longestMs,
        wallMs: cost.wallMs,
      });
      ctx.recorder.metric(`removal.${metric}.serverMs`, cost.serverMs);
      ctx.recorder.metric(`removal.${metric}.longestScriptMs`, cost.longestMs);
    }
    table.notes.push(
      "Server time and longest script: SLOWLOG of the section's own redis-server, every command logged; the thread's " +
        "keys are the only ones on it. Each operation works on a thread of its own, built the same way.",
      "Blob check in one script: deleteForRuns with its check limit raised past the thread's length, so the script " +
        "that removes the run also reads every remaining checkpoint, as before the check was paged.",
    );
  } finally {
    server.disconnect();
    await local.stop();
  }
}

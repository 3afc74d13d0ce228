/**
 * The child process of the recovery kill test, bundled once per test run and started with plain node.
 *
 *   node program.mjs run <config-json>      runs the given threads, printing phase markers; waits to be killed
 *   node program.mjs recover <config-json>  runs a recovery worker until SIGTERM, printing each result
 *
 * Phase markers are written synchronously to stdout (a pipe), so every line printed before a SIGKILL reaches the
 * parent: "P <thread> <phase>" where phase is node-start/node-end <node>, put-start/put-stored/put-end
 * <checkpoint id> <parent id>, writes-start/writes-stored/writes-end <task id>. "stored" is printed only once Redis
 * has acknowledged the write.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import { RunLeaseLostError, startRecoveryWorker, withRunLease } from "../../../src/index.js";
import { buildKillGraph } from "./graph.js";
import { guardNode, makeSaver } from "./platform.js";
import { type ProgramTarget, startProgram } from "./program-basics.js";

export interface ProgramConfig extends ProgramTarget {
  keyPrefix: string;
  leaseMs: number;
  heartbeatMs: number;
  maxNodeDelayMs: number;
  maxSaverDelayMs: number;
  /** run: the threads to start, with their input. */
  threads?: { threadId: string; orderId: string; amount: number }[];
  /** recover: how often to look for crashed runs. */
  intervalMs?: number;
  concurrency?: number;
}

const [role, json] = process.argv.slice(2);
const config = JSON.parse(json ?? "{}") as ProgramConfig;
const { tag, print, client } = startProgram(config, { tagPrefix: role ?? "program", lifetimeMs: 1_800_000 });

const delay = () =>
  config.maxSaverDelayMs > 0 ? sleep(Math.floor(Math.random() * (config.maxSaverDelayMs + 1))) : Promise.resolve();
const threadOf = (cfg: { configurable?: Record<string, unknown> }) => String(cfg.configurable?.thread_id);

/** The saver, with phase markers and random delays on both sides of each put and putWrites. */
function instrumented(saver: BaseCheckpointSaver): BaseCheckpointSaver {
  return new Proxy(saver, {
    get(target, property) {
      if (property === "put") {
        return async (...args: Parameters<BaseCheckpointSaver["put"]>) => {
          const [cfg, checkpoint] = args;
          const ids = `${checkpoint.id} ${String(cfg.configurable?.checkpoint_id ?? "-")}`;
          print(`P ${threadOf(cfg)} put-start ${ids}`);
          await delay();
          const result = await target.put(...args);
          print(`P ${threadOf(cfg)} put-stored ${ids}`);
          await delay();
          print(`P ${threadOf(cfg)} put-end ${ids}`);
          return result;
        };
      }
      if (property === "putWrites") {
        return async (...args: Parameters<BaseCheckpointSaver["putWrites"]>) => {
          const [cfg, , taskId] = args;
          print(`P ${threadOf(cfg)} writes-start ${taskId}`);
          await delay();
          await target.putWrites(...args);
          print(`P ${threadOf(cfg)} writes-stored ${taskId}`);
          await delay();
          print(`P ${threadOf(cfg)} writes-end ${taskId}`);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

const saver = makeSaver(client, config.keyPrefix);
const graph = buildKillGraph({
  checkpointer: role === "run" ? instrumented(saver) : saver,
  client,
  keyPrefix: config.keyPrefix,
  processTag: tag,
  maxDelayMs: role === "run" ? config.maxNodeDelayMs : 0,
  onPhase: role === "run" ? (thread, phase) => print(`P ${thread} ${phase}`) : undefined,
  guardCharge: (node) => guardNode(node, client, config.keyPrefix),
});
const app = withRunLease(graph, {
  client,
  keyPrefix: config.keyPrefix,
  leaseMs: config.leaseMs,
  heartbeatMs: config.heartbeatMs,
  owner: tag,
});

if (role === "run") {
  print(`R ${tag}`);
  await Promise.all(
    (config.threads ?? []).map(async ({ threadId, orderId, amount }) => {
      try {
        await app.invoke({ orderId, amount }, { configurable: { thread_id: threadId } });
      } catch (error) {
        // On a starved machine a run can miss its renewals for leaseMs and be aborted; its thread is then a crashed
        // run like one whose process died, and the recoverers finish it (the test checks that they do).
        if (!(error instanceof RunLeaseLostError)) throw error;
        print(`L ${threadId} lease lost`);
        return;
      }
      print(`T ${threadId} done`);
    }),
  );
  print("D");
  // Stay alive until killed: the test decides when this process dies.
  await sleep(1_800_000);
} else if (role === "recover") {
  const worker = startRecoveryWorker(app, {
    intervalMs: config.intervalMs ?? 100,
    concurrency: config.concurrency ?? 4,
    onResult: (result) => {
      const run = result.run as { threadId: string; leaseToken?: number; heldBy?: string; checkpointId?: string };
      const reason = result.outcome === "skipped" ? result.reason : "-";
      print(`RES ${result.outcome} ${run.threadId} ${run.leaseToken ?? 0} ${reason} ${run.checkpointId ?? "-"}`);
      if (result.outcome === "failed") print(`ERR ${run.threadId} ${String(result.error)}`);
    },
    onError: (error) => print(`ERR pass ${String(error)}`),
  });
  print(`R ${tag}`);
  await new Promise<void>((resolve) => process.once("SIGTERM", () => resolve()));
  await worker.stop();
  print(`S ${JSON.stringify(worker.stats)}`);
  await client.quit();
  process.exit(0);
}

/**
 * The child process of the stopped-run test, bundled once per test run and started with plain node:
 *
 *   node stop-program.mjs <config-json>
 *
 * Runs one thread of the stop graph under withRunLease and prints "R <tag>", then "N start|end <node>" as nodes run,
 * then "OK" or "ERR <error name> <message>" when invoke settles, and exits. The test stops and continues it with
 * SIGSTOP / SIGCONT.
 */
import { withRunLease } from "../../../src/index.js";
import { type ProgramTarget, startProgram } from "./program-basics.js";
import { buildStopGraph } from "./stop-graph.js";

interface StopProgramConfig extends ProgramTarget {
  keyPrefix: string;
  threadId: string;
  leaseMs: number;
  heartbeatMs: number;
  stepMs: number;
}

const config = JSON.parse(process.argv[2] ?? "{}") as StopProgramConfig;
const { tag, print, client } = startProgram(config, { tagPrefix: "run", lifetimeMs: 600_000 });
const graph = buildStopGraph({
  client,
  keyPrefix: config.keyPrefix,
  tag,
  stepMs: config.stepMs,
  onPhase: (phase) => print(`N ${phase}`),
});
const app = withRunLease(graph, {
  client,
  keyPrefix: config.keyPrefix,
  leaseMs: config.leaseMs,
  heartbeatMs: config.heartbeatMs,
  owner: tag,
});

print(`R ${tag}`);
try {
  await app.invoke({ by: [] }, { configurable: { thread_id: config.threadId } });
  print("OK");
} catch (error) {
  const e = error as Error;
  print(`ERR ${e?.name ?? typeof error} ${String(e?.message ?? error).replace(/\n/g, " ")}`);
}
client.disconnect();
process.exit(0);

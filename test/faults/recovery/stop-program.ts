/**
 * The child process of the stopped-run test, bundled once per test run and started with plain node:
 *
 *   node stop-program.mjs <config-json>
 *
 * Runs one thread of the stop graph under withRunLease and prints "R <tag>", then "N start|end <node>" as nodes run,
 * then "OK" or "ERR <error name> <message>" when invoke settles, and exits. The test stops and continues it with
 * SIGSTOP / SIGCONT.
 */
import { randomBytes } from "node:crypto";
import { writeSync } from "node:fs";
import { Cluster, Redis } from "ioredis";
import { withRunLease } from "../../../src/index.js";
import { buildStopGraph } from "./stop-graph.js";

interface StopProgramConfig {
  redisUrl?: string;
  clusterNodes?: { host: string; port: number }[];
  keyPrefix: string;
  threadId: string;
  leaseMs: number;
  heartbeatMs: number;
  stepMs: number;
}

const config = JSON.parse(process.argv[2] ?? "{}") as StopProgramConfig;
const tag = `run-${process.pid}-${randomBytes(3).toString("hex")}`;
const print = (line: string) => writeSync(1, `${line}\n`);
// Never outlive the test: stdin is a pipe from the parent, closed when the parent dies (however it dies).
process.stdin.on("end", () => process.exit(3));
process.stdin.resume();
setTimeout(() => process.exit(3), 600_000).unref();

const client = config.clusterNodes
  ? new Cluster(config.clusterNodes, { redisOptions: { maxRetriesPerRequest: 2 } })
  : new Redis(config.redisUrl ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: 2 });
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

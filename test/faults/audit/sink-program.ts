/**
 * A sink process for the audit fault test: drains the outbox of AUDIT_PREFIX into AUDIT_SCHEMA until stdin closes
 * or it is killed. Prints "B <delivered> <duplicates> <reclaimed>" after every batch it committed, so the parent can
 * kill it in the middle of the next one.
 */
import { Cluster, Redis } from "ioredis";
import { startAuditSink } from "../../../src/index.js";

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const nodes = process.env.REDIS_CLUSTER_NODES;
const client = nodes
  ? new Cluster(
      nodes.split(",").map((hostPort) => {
        const [host = "127.0.0.1", port = "6379"] = hostPort.split(":");
        return { host, port: Number(port) };
      }),
    )
  : new Redis(env("REDIS_URL"));

let last = 0;
const sink = startAuditSink({
  client,
  postgres: env("POSTGRES_URL"),
  keyPrefix: env("AUDIT_PREFIX"),
  schema: env("AUDIT_SCHEMA"),
  consumer: env("AUDIT_CONSUMER"),
  batchSize: 100,
  claimIdleMs: 1000,
  retryMaxMs: 500,
  pollIntervalMs: 10,
  idlePollMaxMs: 100,
});
await sink.ready;
process.stdout.write("R\n");
const timer = setInterval(() => {
  const stats = sink.stats();
  if (stats.delivered + stats.duplicates !== last) {
    last = stats.delivered + stats.duplicates;
    process.stdout.write(`B ${stats.delivered} ${stats.duplicates} ${stats.reclaimed}\n`);
  }
}, 5);

process.stdin.on("close", async () => {
  clearInterval(timer);
  await sink.stop();
  client.disconnect();
  process.exit(0);
});
process.stdin.resume();

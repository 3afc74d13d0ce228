/**
 * Runs a command with REDIS_URL (and REDIS_CLUSTER_NODES when `--cluster` is given) pointing at servers:
 * the ones the caller set, or throwaway local redis-servers started here and stopped by pid afterwards.
 *   tsx scripts/with-redis.ts [--cluster] -- <command> [args...]
 */
import { spawn } from "node:child_process";
import { type LocalCluster, type LocalRedis, startCluster, startRedis } from "./local-redis.js";

const argv = process.argv.slice(2);
const separator = argv.indexOf("--");
const flags = separator >= 0 ? argv.slice(0, separator) : [];
const [command, ...args] = separator >= 0 ? argv.slice(separator + 1) : argv;
if (!command) {
  console.error("usage: tsx scripts/with-redis.ts [--cluster] -- <command> [args...]");
  process.exit(2);
}

let standalone: LocalRedis | undefined;
let cluster: LocalCluster | undefined;
const env = { ...process.env };
if (!env.REDIS_URL) {
  standalone = await startRedis();
  env.REDIS_URL = standalone.url;
  // The demo's --outage kills and restarts a server by pid: only one this script started for it.
  env.DEMO_OWN_REDIS = "1";
}
if (flags.includes("--cluster") && !env.REDIS_CLUSTER_NODES) {
  cluster = await startCluster(3);
  env.REDIS_CLUSTER_NODES = cluster.nodes;
}

const child = spawn(command, args, { stdio: "inherit", env });
const forward = (signal: NodeJS.Signals) => child.kill(signal);
process.on("SIGINT", forward);
process.on("SIGTERM", forward);
const code: number = await new Promise((resolve) => child.once("exit", (c, s) => resolve(c ?? (s ? 1 : 0))));
await Promise.all([standalone?.stop(), cluster?.stop()]);
process.exit(code);

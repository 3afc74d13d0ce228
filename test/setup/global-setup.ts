/**
 * Starts the real servers the suite runs against: one standalone redis-server and one 3-master Redis Cluster on
 * free loopback ports, and stops them (by pid) when the run ends, fails or is interrupted.
 * REDIS_URL and REDIS_CLUSTER_NODES point the suite at servers you already run instead.
 */
import { execFileSync } from "node:child_process";
import { Cluster, Redis } from "ioredis";
import type { TestProject } from "vitest/node";
import { type LocalCluster, type LocalRedis, startCluster, startRedis } from "../../scripts/local-redis.js";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
    clusterNodes: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Tests run the Lua files as they are now, also when vitest is started directly after editing one.
  execFileSync(process.execPath, ["scripts/embed-lua.mjs"], { cwd: project.config.root, stdio: "inherit" });
  let standalone: LocalRedis | undefined;
  let cluster: LocalCluster | undefined;
  const stopAll = async () => {
    await Promise.all([standalone?.stop(), cluster?.stop()]);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    void stopAll().finally(() => process.kill(process.pid, signal));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  let redisUrl: string;
  let clusterNodes: string;
  try {
    [redisUrl, clusterNodes] = await Promise.all([
      process.env.REDIS_URL ??
        startRedis().then((s) => {
          standalone = s;
          return s.url;
        }),
      process.env.REDIS_CLUSTER_NODES ??
        startCluster(3).then((c) => {
          cluster = c;
          return c.nodes;
        }),
    ]);
    await Promise.all([
      process.env.REDIS_URL ? assertReachable("REDIS_URL", redisUrl) : undefined,
      process.env.REDIS_CLUSTER_NODES ? assertClusterReachable(clusterNodes) : undefined,
    ]);
  } catch (error) {
    // Setup failed: no teardown will run, so stop what was started here before reporting.
    await stopAll();
    throw error;
  }
  project.provide("redisUrl", redisUrl);
  project.provide("clusterNodes", clusterNodes);

  return async () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await stopAll();
  };
}

/** Fails the run at once, naming the address, when a server the caller pointed us at does not answer. */
async function assertReachable(variable: string, url: string): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new Error(`${variable}=${url} is not reachable: ${(error as Error).message}`);
  } finally {
    client.disconnect();
  }
}

async function assertClusterReachable(nodes: string): Promise<void> {
  const startupNodes = nodes.split(",").map((hostPort) => {
    const [host = "127.0.0.1", port = "6379"] = hostPort.trim().split(":");
    return { host, port: Number(port) };
  });
  const cluster = new Cluster(startupNodes, {
    lazyConnect: true,
    clusterRetryStrategy: () => null,
    redisOptions: { connectTimeout: 3000, maxRetriesPerRequest: 0 },
  });
  try {
    await cluster.connect();
    const info = String(await cluster.cluster("INFO"));
    if (!info.includes("cluster_state:ok")) throw new Error("cluster_state is not ok");
  } catch (error) {
    throw new Error(`REDIS_CLUSTER_NODES=${nodes} is not a reachable, healthy cluster: ${(error as Error).message}`);
  } finally {
    cluster.disconnect();
  }
}

/**
 * Starts the real servers the suite runs against: one standalone redis-server and one 3-master Redis Cluster on
 * free loopback ports, and stops them (by pid) when the run ends, fails or is interrupted.
 * REDIS_URL and REDIS_CLUSTER_NODES point the suite at servers you already run instead.
 */
import type { TestProject } from "vitest/node";
import { type LocalCluster, type LocalRedis, startCluster, startRedis } from "../../scripts/local-redis.js";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
    clusterNodes: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
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

  const [redisUrl, clusterNodes] = await Promise.all([
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
  project.provide("redisUrl", redisUrl);
  project.provide("clusterNodes", clusterNodes);

  return async () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await stopAll();
  };
}

/**
 * Child processes of the recovery kill and stop tests. The programs are bundled once per test run
 * (test/helpers/bundle-program.ts) and started with plain node. Process handling (lines, signals, stopAll by pid) is
 * test/helpers/child-process.ts.
 */
import { join } from "node:path";
import { Cluster, Redis } from "ioredis";
import type { RedisClient } from "../../../src/client.js";
import { bundleProgram as bundle } from "../../helpers/bundle-program.js";
import { type Child, startChild } from "../../helpers/child-process.js";
import { parseNodes } from "../../helpers/nodes.js";

export { type Child, stopAll } from "../../helpers/child-process.js";

/** Bundles test/faults/recovery/<entry> (default program.ts); returns its path and a cleanup. */
export function bundleProgram(entry = "program.ts"): Promise<{ file: string; cleanup: () => void }> {
  return bundle(join("test", "faults", "recovery", entry));
}

/**
 * The test's own client on the servers it started, and the node list a program's config takes to open its own:
 * the cluster's nodes on a cluster, else the standalone URL.
 */
export function programTarget(
  onCluster: boolean,
  standaloneUrl: string,
  clusterNodes: string,
): {
  client: RedisClient;
  config: { clusterNodes: { host: string; port: number }[] } | { redisUrl: string };
} {
  const nodes = parseNodes(clusterNodes);
  return onCluster
    ? { client: new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 2 } }), config: { clusterNodes: nodes } }
    : { client: new Redis(standaloneUrl, { maxRetriesPerRequest: 2 }), config: { redisUrl: standaloneUrl } };
}

/** Starts the bundled program; stdin stays open and unused, so the child exits when this process is gone. */
export function startProgramChild(file: string, args: readonly string[]): Child {
  return startChild([file, ...args], { keepStdin: true });
}

/**
 * Every program in examples/ runs to completion against the suite's servers (each one is what users copy first,
 * so it must keep working). Examples read REDIS_URL, REDIS_CLUSTER_NODES for the cluster one and POSTGRES_URL for
 * the audit trail.
 */
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { inject } from "vitest";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..");
const examples = readdirSync(join(root, "examples")).filter((f) => f.endsWith(".ts"));

describe("examples", () => {
  it.each(examples)("%s runs and exits 0", async (file) => {
    const tsx = join(root, "node_modules", ".bin", "tsx");
    const env = {
      ...process.env,
      REDIS_URL: inject("redisUrl"),
      REDIS_CLUSTER_NODES: inject("clusterNodes"),
      POSTGRES_URL: inject("postgresUrl"),
    };
    const { stdout } = await run(tsx, [join("examples", file)], { cwd: root, env, timeout: 60_000 });
    expect(stdout.length).toBeGreaterThan(0);
  });
});

import type { Cluster } from "ioredis";
import { requireServerVersion, serverVersion } from "../../src/client.js";
import { UnsupportedServerError } from "../../src/errors.js";
import { hashTag } from "../../src/keys.js";
import { clusterNodes, newCluster, newRedis, testPrefix } from "../helpers/redis.js";

describe("test harness", () => {
  it("gives a live standalone server on loopback", async () => {
    const client = newRedis();
    expect(await client.ping()).toBe("PONG");
    const [major] = await serverVersion(client);
    expect(major).toBeGreaterThanOrEqual(7);
  });

  it("gives a 3-master cluster in state ok", async () => {
    expect(clusterNodes()).toHaveLength(3);
    const cluster: Cluster = newCluster();
    const info = await cluster.cluster("INFO");
    expect(String(info)).toContain("cluster_state:ok");
    expect(cluster.nodes("master")).toHaveLength(3);
  });

  it("places keys that share a hash tag in one slot, so one script can touch them on a cluster", async () => {
    const cluster = newCluster();
    const tag = hashTag(testPrefix(), "thread {with} : braces");
    const result = await cluster.eval(
      "redis.call('SET', KEYS[1], 'a'); return redis.call('SET', KEYS[2], 'b')",
      2,
      `a${tag}`,
      `b${tag}`,
    );
    expect(result).toBe("OK");
    await cluster.del(`a${tag}`, `b${tag}`);
  });

  it("names the server version in UnsupportedServerError", async () => {
    const client = newRedis();
    await expect(requireServerVersion(client, [99, 0, 0], "Time travel")).rejects.toThrow(UnsupportedServerError);
    await expect(requireServerVersion(client, [99, 0, 0], "Time travel")).rejects.toThrow(/needs Redis 99\.0\.0/);
    await expect(requireServerVersion(client, [6, 0, 0], "Hashes")).resolves.toBeUndefined();
  });
});

import type { Cluster } from "ioredis";
import { parseMonitorLine, startMonitor } from "../../scripts/monitor.js";
import { requireServerVersion, serverVersion } from "../../src/client.js";
import { UnsupportedServerError } from "../../src/errors.js";
import { hashTag } from "../../src/keys.js";
import { clusterNodes, newCluster, newRedis, redisUrl, testPrefix } from "../helpers/redis.js";

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

  it("MONITOR: sees every command sent once it resolved, its arguments unescaped, busy or not", async () => {
    const client = newRedis();
    const url = new URL(redisUrl());
    const key = `${testPrefix("monitor")} "quoted" \\ \u0000\n\u00e9`;
    await client.ping();
    for (let round = 0; round < 20; round++) {
      // Commands in flight while MONITOR starts: their lines may share a packet with its OK.
      const busy = Promise.all(Array.from({ length: 50 }, () => client.ping()));
      const monitor = await startMonitor({ host: url.hostname, port: Number(url.port) });
      const seen: string[][] = [];
      const done = new Promise<void>((resolve) =>
        monitor.on(({ args, source }) => {
          expect(source).toMatch(/^[\d.]+:\d+$/);
          seen.push(args);
          if (args[0]?.toLowerCase() === "get") resolve();
        }),
      );
      await client.set(key, "v");
      await client.get(key);
      await done;
      monitor.close();
      await busy;
      const ours = seen.filter((args) => args[0]?.toLowerCase() !== "ping");
      // The key's UTF-8 bytes, read back as latin1 characters.
      const sentKey = Buffer.from(key).toString("latin1");
      expect(ours).toEqual([
        ["set", sentKey, "v"],
        ["get", sentKey],
      ]);
    }
    expect(parseMonitorLine('+1.5 [0 lua] "HGET" "a\\x00\\"b\\\\" "c d"')).toEqual({
      time: "1.5",
      db: "0",
      source: "lua",
      args: ["HGET", 'a\u0000"b\\', "c d"],
    });
  });
});

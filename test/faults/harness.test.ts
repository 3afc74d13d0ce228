import { Redis } from "ioredis";
import { startReplicatedCluster, startRestartableRedis } from "../../scripts/local-redis.js";
import { recordCounts } from "../helpers/counts.js";

const failFast = { maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: true } as const;

describe("fault harness", () => {
  it("restarts a server on the same port with its AOF, after SIGTERM and after SIGKILL", async (context) => {
    const server = await startRestartableRedis({ args: ["--appendonly", "yes", "--appendfsync", "always"] });
    try {
      for (const signal of ["SIGTERM", "SIGKILL"] as const) {
        const writer = new Redis(server.url, failFast);
        await writer.set(`before-${signal}`, "kept");
        writer.disconnect();
        const pidBefore = server.pid;
        await server.restart(signal);
        recordCounts(context, { faultsInjected: 1, acknowledgedWritesChecked: 1 });
        expect(server.pid).not.toBe(pidBefore);
        const reader = new Redis(server.url, failFast);
        expect(await reader.get(`before-${signal}`)).toBe("kept");
        reader.disconnect();
      }
    } finally {
      await server.stop();
    }
  });

  it("kills a cluster master by pid and waits for its replica's promotion", async (context) => {
    const cluster = await startReplicatedCluster({ masters: 3, replicasPerMaster: 1 });
    try {
      const topology = await cluster.topology();
      expect(topology.filter((n) => n.role === "master")).toHaveLength(3);
      expect(topology.filter((n) => n.role === "replica")).toHaveLength(3);
      const masters = await cluster.masterPorts();
      const victim = masters[0] as number;
      const pid = await cluster.kill(victim, "SIGKILL");
      recordCounts(context, { faultsInjected: 1 });
      expect(pid).toBeGreaterThan(0);
      const promoted = await cluster.waitForPromotion(victim);
      const after = await cluster.masterPorts();
      expect(after).toContain(promoted);
      expect(after).not.toContain(victim);
      expect(after).toHaveLength(3);
    } finally {
      await cluster.stop();
    }
  });
});

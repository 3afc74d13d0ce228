import { type DurabilityWarning, WriteDurability } from "../../src/durability.js";
import { DurabilityError, InvalidOptionError, UnsupportedServerError } from "../../src/errors.js";
import { canStartServers, connect, startServer } from "../helpers/local-servers.js";
import { newCluster, newRedis, testPrefix } from "../helpers/redis.js";

async function waitForReplicaLink(replica: ReturnType<typeof connect>): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if ((await replica.info("replication")).includes("master_link_status:up")) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("replica never linked to its master");
}

describe("WriteDurability: waiting for replicas (WAIT)", () => {
  it("does nothing when no wait is asked for", async () => {
    const durability = new WriteDurability(newRedis(), {}, "Test");
    expect(durability.waits).toBe(false);
    await durability.ready();
    await expect(durability.afterWrite("any", "item")).resolves.toBeUndefined();
  });

  it("raises DurabilityError when fewer replicas than required acknowledge the write", async () => {
    const client = newRedis();
    const key = `${testPrefix()}:k`;
    await client.set(key, "v");
    const durability = new WriteDurability(client, { waitForReplicas: 1, waitTimeoutMs: 50 }, "Test");
    await durability.ready();
    const failure = durability.afterWrite(key, `item "${key}"`);
    await expect(failure).rejects.toThrow(DurabilityError);
    await expect(durability.afterWrite(key, "item")).rejects.toThrow(/0 of 1 replicas acknowledged it \(WAIT\)/);
    expect(await client.get(key)).toBe("v"); // the write itself stays applied on the master
  });

  it.skipIf(!canStartServers)("returns once a replica has the write (needs redis-server on PATH)", async () => {
    const master = await startServer(["--repl-diskless-sync-delay", "0"]);
    const replicaServer = await startServer(["--replicaof", "127.0.0.1", String(master.port)]);
    const replica = connect(replicaServer.url);
    await waitForReplicaLink(replica);
    const client = connect(master.url);
    const durability = new WriteDurability(client, { waitForReplicas: 1, waitTimeoutMs: 10_000 }, "Test");
    for (let i = 0; i < 20; i++) {
      await client.set(`k${i}`, `v${i}`);
      await durability.afterWrite(`k${i}`, "item");
      expect(await replica.get(`k${i}`)).toBe(`v${i}`);
    }
  });

  it("routes WAIT to the master that owns the key on a cluster", async () => {
    const cluster = newCluster();
    const durability = new WriteDurability(cluster, { waitForReplicas: 1, waitTimeoutMs: 50 }, "Test");
    for (const key of ["a", "b", "c", "d"].map((k) => `${testPrefix()}:${k}`)) {
      await cluster.set(key, "v");
      // the shared test cluster has no replicas: each master answers WAIT with 0
      await expect(durability.afterWrite(key, "item")).rejects.toThrow(/0 of 1 replicas/);
    }
  });
});

describe("WriteDurability: waiting for the AOF (WAITAOF)", () => {
  it("throws UnsupportedServerError before any write when the server lacks WAITAOF", async (context) => {
    const client = newRedis();
    const [major, minor] =
      (await client.info("server"))
        .match(/redis_version:(\d+)\.(\d+)/)
        ?.slice(1)
        .map(Number) ?? [];
    if ((major ?? 0) > 7 || (major === 7 && (minor ?? 0) >= 2)) {
      context.skip("the server has WAITAOF (Redis 7.2+); this test is about servers without it");
    }
    const durability = new WriteDurability(client, { waitForAof: true }, "Test");
    await expect(durability.ready()).rejects.toThrow(UnsupportedServerError);
    await expect(durability.ready()).rejects.toThrow(/WAITAOF.*7\.2/);

    const warnings: DurabilityWarning[] = [];
    const skipping = new WriteDurability(
      client,
      { waitForAof: true, onUnsupported: "skip", onWarning: (w) => warnings.push(w) },
      "Test",
    );
    await skipping.ready();
    expect(warnings).toEqual([expect.objectContaining({ kind: "unsupported" })]);
    expect(skipping.waits).toBe(false);
    await expect(skipping.afterWrite("k", "item")).resolves.toBeUndefined();
  });

  it("names the owner's option when an option is wrong", () => {
    expect(() => new WriteDurability(newRedis(), { waitTimeoutMs: 0 }, "RedisSaver")).toThrow(InvalidOptionError);
    expect(() => new WriteDurability(newRedis(), { waitTimeoutMs: 0 }, "RedisSaver")).toThrow(
      /RedisSaver\.durability\.waitTimeoutMs/,
    );
  });
});

import { checkDurability, type DurabilityWarning } from "../../src/durability.js";
import { DurabilityError, InvalidOptionError } from "../../src/errors.js";
import { canStartServers, connect, startServer } from "../helpers/local-servers.js";
import { newCluster } from "../helpers/redis.js";

const aof = (fsync: string) => ["--appendonly", "yes", "--appendfsync", fsync];

describe.skipIf(!canStartServers)("checkDurability (needs redis-server on PATH to start configured servers)", () => {
  it("accepts appendonly yes + appendfsync always for every level", async () => {
    const client = connect((await startServer(aof("always"))).url);
    for (const require of ["fsync-always", "aof", "persisted"] as const) {
      const report = await checkDurability(client, { check: "refuse", require });
      expect(report.ok).toBe(true);
      expect(report.nodes).toHaveLength(1);
      expect(report.nodes[0]).toMatchObject({ readable: true, appendonly: true, appendfsync: "always", problems: [] });
    }
  });

  it("refuses appendfsync everysec when fsync-always is required, and accepts it for aof", async () => {
    const client = connect((await startServer(aof("everysec"))).url);
    await expect(checkDurability(client, { check: "refuse" })).rejects.toThrow(DurabilityError);
    await expect(checkDurability(client, { check: "refuse" })).rejects.toThrow(/appendfsync everysec/);
    expect((await checkDurability(client, { check: "refuse", require: "aof" })).ok).toBe(true);
  });

  it("refuses a server without persistence, and only warns in warn mode", async () => {
    const client = connect((await startServer()).url);
    await expect(checkDurability(client, { check: "refuse", require: "persisted" })).rejects.toThrow(
      /persistence is off .*a restart loses every write/,
    );
    const warnings: DurabilityWarning[] = [];
    const report = await checkDurability(client, { check: "warn", onWarning: (w) => warnings.push(w) });
    expect(report.ok).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ kind: "problem", node: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
  });

  it("treats RDB snapshots as persisted but not as AOF", async () => {
    const client = connect((await startServer(["--save", "900 1"])).url);
    expect((await checkDurability(client, { check: "refuse", require: "persisted" })).ok).toBe(true);
    await expect(checkDurability(client, { check: "refuse", require: "aof" })).rejects.toThrow(
      /only RDB snapshots .*since the last snapshot/,
    );
  });

  it("refuses an allkeys eviction policy at every level", async () => {
    const client = connect((await startServer([...aof("always"), "--maxmemory-policy", "allkeys-lru"])).url);
    await expect(checkDurability(client, { check: "refuse", require: "persisted" })).rejects.toThrow(
      /maxmemory-policy allkeys-lru: when memory is full Redis deletes keys/,
    );
    const volatile = connect((await startServer([...aof("always"), "--maxmemory-policy", "volatile-lru"])).url);
    expect((await checkDurability(volatile, { check: "refuse" })).ok).toBe(true);
  });

  it("says it could not verify, without failing, when an ACL denies CONFIG", async () => {
    const server = await startServer();
    const admin = connect(server.url);
    await admin.call("ACL", ["SETUSER", "app", "on", ">app-secret", "~*", "+@all", "-config"]);
    const app = connect(server.url, { username: "app", password: "app-secret" });
    const warnings: DurabilityWarning[] = [];
    const report = await checkDurability(app, { check: "refuse", onWarning: (w) => warnings.push(w) });
    expect(report).toMatchObject({ ok: false, unreadable: true });
    expect(report.nodes[0]).toMatchObject({ readable: false, error: expect.stringMatching(/NOPERM/) });
    expect(warnings.map((w) => w.kind)).toEqual(["unreadable"]);
    expect(warnings[0]?.message).toMatch(/not verified/);
  });
});

describe("checkDurability on a cluster", () => {
  it("reads every node the cluster client knows", async () => {
    const cluster = newCluster();
    await cluster.ping();
    const report = await checkDurability(cluster, { check: "warn", onWarning: () => {} });
    expect(report.nodes.map((n) => n.node).sort()).toEqual(
      cluster
        .nodes("all")
        .map((n) => `${n.options.host}:${n.options.port}`)
        .sort(),
    );
    for (const node of report.nodes) {
      if (node.readable) expect(typeof node.appendonly).toBe("boolean");
    }
  });
});

describe("durability options", () => {
  it("names the option, echoes the value and says what is allowed", async () => {
    const client = newCluster();
    await expect(checkDurability(client, { check: "maybe" as never })).rejects.toThrow(InvalidOptionError);
    await expect(checkDurability(client, { waitForReplicas: -1 })).rejects.toThrow(/durability\.waitForReplicas/);
    await expect(checkDurability(client, { surprise: true } as never)).rejects.toThrow(/durability/);
  });
});

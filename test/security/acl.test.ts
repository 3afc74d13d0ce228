/**
 * Every public operation under an ACL user confined by aclRules() to its key prefix and the commands the library
 * needs, on a standalone server and on a cluster; and two tenants that cannot read or write each other's data.
 */
import { Annotation, END, MemorySaver, START, StateGraph } from "@langchain/langgraph";
import { Cluster, Redis } from "ioredis";
import { type LocalCluster, type LocalRedis, startCluster } from "../../scripts/local-redis.js";
import {
  ACL_COMMANDS,
  aclRules,
  findCrashedRuns,
  guarded,
  type RedisClient,
  RedisPermissionError,
  RedisSaver,
  RedisStore,
  VersionConflictError,
  withRunLease,
} from "../../src/index.js";
import { canStartServers, startServer } from "../helpers/local-servers.js";
import { runWorkload } from "./workload.js";

const failFast = { maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5000 } as const;

/** Redis 7.2+ gets CLIENT SETINFO from ioredis on every connection: grant it there (older servers lack it). */
async function hasClientSetinfo(admin: Redis): Promise<boolean> {
  const [info] = (await admin.call("COMMAND", ["INFO", "CLIENT|SETINFO"])) as unknown[];
  return info !== null && info !== undefined;
}

async function setUser(admin: Redis, name: string, rules: readonly string[]): Promise<void> {
  await admin.call("ACL", ["SETUSER", name, "reset", "on", `>${name}-password`, ...rules]);
}

/** Commands and keys the ACL refused since the last reset, as `user: reason object`. */
async function denials(admin: Redis): Promise<string[]> {
  const log = (await admin.call("ACL", ["LOG"])) as unknown[][];
  return log.map((entry) => {
    const fields = new Map<string, unknown>();
    for (let i = 0; i + 1 < entry.length; i += 2) fields.set(String(entry[i]), entry[i + 1]);
    return `${fields.get("username")}: ${fields.get("reason")} ${fields.get("object")}`;
  });
}

/** Every key under `prefix`, read by an administrator (KEYS on a test server; the library itself never lists keys). */
async function keysOf(admins: readonly Redis[], prefix: string): Promise<string[]> {
  const found = await Promise.all(admins.map((admin) => admin.keys(`${prefix}|*`)));
  return found.flat().sort();
}

/**
 * `intruder` (an ACL user made with aclRules for its own prefix) pointed at `victim`'s prefix: every library
 * operation on the victim's threads, items, locks and run leases is refused with RedisPermissionError, and so is
 * every raw read or delete of each of the victim's keys.
 */
async function expectLockedOut(intruder: RedisClient, victim: string, victimKeys: readonly string[]): Promise<void> {
  expect(victimKeys.length).toBeGreaterThan(10);
  const saver = new RedisSaver({ client: intruder, keyPrefix: victim });
  const store = new RedisStore({ client: intruder, keyPrefix: victim });
  const thread = { configurable: { thread_id: "thread-1" } };
  await expect(saver.getTuple(thread)).rejects.toThrow(RedisPermissionError);
  await expect(saver.list(thread).next()).rejects.toThrow(RedisPermissionError);
  await expect(saver.list({ configurable: {} }).next()).rejects.toThrow(RedisPermissionError);
  await expect(
    saver.put(
      { configurable: { thread_id: "thread-1", checkpoint_ns: "" } },
      { v: 4, id: "z", ts: "2025-01-01T00:00:00.000Z", channel_values: {}, channel_versions: {}, versions_seen: {} },
      { source: "input", step: -1, parents: {} },
      {},
    ),
  ).rejects.toThrow(RedisPermissionError);
  await expect(saver.deleteThread("thread-1")).rejects.toThrow(RedisPermissionError);
  await expect(store.get(["memories", "alice"], "m1")).rejects.toThrow(RedisPermissionError);
  await expect(store.put(["memories", "alice"], "m1", { text: "forged" })).rejects.toThrow(RedisPermissionError);
  await expect(store.delete(["memories", "alice"], "m1")).rejects.toThrow(RedisPermissionError);
  await expect(store.search(["memories"])).rejects.toThrow(RedisPermissionError);
  await expect(store.history(["memories", "alice"], "m1")).rejects.toThrow(RedisPermissionError);
  // the victim's lock on order o-1 (and its fence counter)
  const lock = guarded(async () => ({}), { client: intruder, keyPrefix: victim, key: "order:o-1" });
  await expect(lock({}, {})).rejects.toThrow(RedisPermissionError);
  // the victim's run leases (graph "workload")
  const State = Annotation.Root({ n: Annotation<number> });
  const graph = new StateGraph(State)
    .addNode("step", () => ({ n: 1 }))
    .addEdge(START, "step")
    .addEdge("step", END)
    .compile({ checkpointer: new MemorySaver() });
  const app = withRunLease(graph, { client: intruder, keyPrefix: victim, name: "workload" });
  await expect(app.invoke({ n: 0 }, { configurable: { thread_id: "thread-3" } })).rejects.toThrow(RedisPermissionError);
  await expect(findCrashedRuns(app)).rejects.toThrow(RedisPermissionError);
  // every key the victim holds, raw: no read, no write, no delete
  for (const key of victimKeys) {
    await expect(intruder.type(key), key).rejects.toThrow(/NOPERM/);
    await expect(intruder.del(key), key).rejects.toThrow(/NOPERM/);
  }
}

describe.skipIf(!canStartServers)("ACL: a user confined to its prefix (needs redis-server on PATH)", () => {
  let server: LocalRedis;
  let admin: Redis;
  let clientInfo = false;
  const clients: RedisClient[] = [];
  const connectAs = (user: string) => {
    const client = new Redis(server.url, { ...failFast, username: user, password: `${user}-password` });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    server = await startServer();
    admin = new Redis(server.url, failFast);
    clientInfo = await hasClientSetinfo(admin);
    await setUser(admin, "tenant-a", aclRules({ keyPrefix: "tenant-a", durability: true, clientInfo }));
    await setUser(admin, "tenant-b", aclRules({ keyPrefix: "tenant-b", durability: true, clientInfo }));
  });
  afterAll(() => {
    for (const client of [...clients, admin]) client?.disconnect();
  });
  beforeEach(async () => {
    await admin.call("ACL", ["LOG", "RESET"]);
  });

  it("runs every public operation with only the rules aclRules() gives, and is denied nothing", async () => {
    const { operations } = await runWorkload(connectAs("tenant-a"), "tenant-a");
    expect(operations).toBeGreaterThan(20);
    // swallowed failures (a best-effort index update) would still show in the ACL log
    expect(await denials(admin)).toEqual([
      // CONFIG GET is in the durability rules; nothing else may be refused
    ]);
  });

  it("needs every command it grants: without any one of them the same pass fails or is denied", async () => {
    const rules = aclRules({ keyPrefix: "tenant-m", durability: true, clientInfo });
    const unneeded: string[] = [];
    // "" first: the control, with every rule, must pass
    for (const command of ["", ...ACL_COMMANDS.required, ...ACL_COMMANDS.durability]) {
      await setUser(
        admin,
        "minimal",
        rules.filter((rule) => rule !== `+${command}`),
      );
      await admin.call("ACL", ["LOG", "RESET"]);
      await admin.call("SCRIPT", ["FLUSH"]); // so the EVAL fallback of a script-cache miss is exercised too
      const client = connectAs("minimal");
      client.on("error", () => {});
      const failed = await runWorkload(client, "tenant-m").then(
        () => false,
        () => true,
      );
      client.disconnect();
      const denied = (await denials(admin)).length > 0;
      if (command === "") expect({ failed, denied }).toEqual({ failed: false, denied: false });
      else if (!failed && !denied) unneeded.push(command);
    }
    expect(unneeded).toEqual([]);
  });

  it("keeps two tenants apart: neither can read or write the other's keys", async () => {
    const a = connectAs("tenant-a");
    const b = connectAs("tenant-b");
    const saverA = new RedisSaver({ client: a, keyPrefix: "tenant-a" });
    const storeA = new RedisStore({ client: a, keyPrefix: "tenant-a" });
    await storeA.put(["accounts"], "alice", { balance: 100 });
    const checkpoint = { v: 4, id: "c1", ts: "2025-01-01T00:00:00.000Z", channel_values: { secret: "a-only" } };
    await saverA.put(
      { configurable: { thread_id: "shared-name", checkpoint_ns: "" } },
      { ...checkpoint, channel_versions: { secret: 1 }, versions_seen: {} },
      { source: "input", step: -1, parents: {} },
      { secret: 1 },
    );

    // tenant B pointed at tenant A's prefix: every read and write is refused by Redis, with a named error
    const intruderStore = new RedisStore({ client: b, keyPrefix: "tenant-a" });
    const intruderSaver = new RedisSaver({ client: b, keyPrefix: "tenant-a" });
    await expect(intruderStore.get(["accounts"], "alice")).rejects.toThrow(RedisPermissionError);
    await expect(intruderStore.put(["accounts"], "alice", { balance: 0 })).rejects.toThrow(RedisPermissionError);
    await expect(intruderStore.search(["accounts"])).rejects.toThrow(RedisPermissionError);
    await expect(intruderSaver.getTuple({ configurable: { thread_id: "shared-name" } })).rejects.toThrow(
      RedisPermissionError,
    );
    await expect(intruderSaver.deleteThread("shared-name")).rejects.toThrow(RedisPermissionError);
    const intruderLock = guarded(async () => ({}), { client: b, keyPrefix: "tenant-a", key: "order:1" });
    await expect(intruderLock({}, {})).rejects.toThrow(RedisPermissionError);
    // raw commands too
    await expect(b.keys("tenant-a|*")).rejects.toThrow(/NOPERM/);
    await expect(b.get("tenant-a|anything")).rejects.toThrow(/NOPERM/);

    // tenant B's own prefix, same names: an empty world
    const storeB = new RedisStore({ client: b, keyPrefix: "tenant-b" });
    const saverB = new RedisSaver({ client: b, keyPrefix: "tenant-b" });
    expect(await storeB.get(["accounts"], "alice")).toBeNull();
    expect(await saverB.getTuple({ configurable: { thread_id: "shared-name" } })).toBeUndefined();
    await storeB.put(["accounts"], "alice", { balance: 5 });
    await expect(storeB.putIfVersion(["accounts"], "alice", { balance: 6 }, 7)).rejects.toThrow(VersionConflictError);

    // tenant A's data is untouched
    expect((await storeA.get(["accounts"], "alice"))?.value).toEqual({ balance: 100 });
    const tuple = await saverA.getTuple({ configurable: { thread_id: "shared-name" } });
    expect(tuple?.checkpoint.channel_values).toEqual({ secret: "a-only" });
    expect(await denials(admin)).not.toContainEqual(expect.stringMatching(/^tenant-a:/));
  });

  it("keeps tenants whose prefixes nest apart, both ways (pa and pa:b)", async () => {
    await setUser(admin, "pa", aclRules({ keyPrefix: "pa", durability: true, clientInfo }));
    await setUser(admin, "pa:b", aclRules({ keyPrefix: "pa:b", durability: true, clientInfo }));
    const outer = connectAs("pa");
    const inner = connectAs("pa:b");
    await runWorkload(outer, "pa");
    await runWorkload(inner, "pa:b");
    const outerKeys = await keysOf([admin], "pa");
    const innerKeys = await keysOf([admin], "pa:b");
    expect(outerKeys.filter((key) => innerKeys.includes(key))).toEqual([]);
    await expectLockedOut(outer, "pa:b", innerKeys);
    await expectLockedOut(inner, "pa", outerKeys);
    // nothing of either was changed by the other
    expect(await keysOf([admin], "pa")).toEqual(outerKeys);
    expect(await keysOf([admin], "pa:b")).toEqual(innerKeys);
    const outerStore = new RedisStore({ client: outer, keyPrefix: "pa" });
    expect((await outerStore.get(["memories", "alice"], "m1"))?.value).toEqual({ text: "v2" });
  });
});

describe.skipIf(!canStartServers)("ACL on Redis Cluster (needs redis-server on PATH)", () => {
  let cluster: LocalCluster;
  const admins: Redis[] = [];
  let clientInfo = false;
  let client: Cluster | undefined;
  const tenants: Cluster[] = [];

  beforeAll(async () => {
    cluster = await startCluster(3);
    for (const server of cluster.servers) {
      const admin = new Redis(server.url, failFast);
      admins.push(admin);
      clientInfo = await hasClientSetinfo(admin);
      await setUser(
        admin,
        "tenant-c",
        aclRules({ keyPrefix: "tenant-c", cluster: true, durability: true, clientInfo }),
      );
    }
  });
  afterAll(async () => {
    client?.disconnect();
    for (const tenant of tenants) tenant.disconnect();
    for (const admin of admins) admin.disconnect();
    await cluster?.stop();
  });

  it("runs every public operation on every master with only the rules aclRules({ cluster: true }) gives", async () => {
    client = new Cluster(
      cluster.servers.map((s) => ({ host: "127.0.0.1", port: s.port })),
      { redisOptions: { ...failFast, username: "tenant-c", password: "tenant-c-password" } },
    );
    const { operations } = await runWorkload(client, "tenant-c");
    expect(operations).toBeGreaterThan(20);
    for (const admin of admins) expect(await denials(admin)).toEqual([]);
  });

  it("keeps tenants whose prefixes nest apart on a cluster, both ways (pa and pa:b)", async () => {
    for (const admin of admins) {
      await setUser(admin, "pa", aclRules({ keyPrefix: "pa", cluster: true, durability: true, clientInfo }));
      await setUser(admin, "pa:b", aclRules({ keyPrefix: "pa:b", cluster: true, durability: true, clientInfo }));
    }
    const connectAs = (user: string) => {
      const tenant = new Cluster(
        cluster.servers.map((s) => ({ host: "127.0.0.1", port: s.port })),
        {
          redisOptions: { ...failFast, username: user, password: `${user}-password` },
          clusterRetryStrategy: () => null,
        },
      );
      tenants.push(tenant);
      return tenant;
    };
    const outer = connectAs("pa");
    const inner = connectAs("pa:b");
    await runWorkload(outer, "pa");
    await runWorkload(inner, "pa:b");
    const outerKeys = await keysOf(admins, "pa");
    const innerKeys = await keysOf(admins, "pa:b");
    expect(outerKeys.filter((key) => innerKeys.includes(key))).toEqual([]);
    await expectLockedOut(outer, "pa:b", innerKeys);
    await expectLockedOut(inner, "pa", outerKeys);
    expect(await keysOf(admins, "pa")).toEqual(outerKeys);
    expect(await keysOf(admins, "pa:b")).toEqual(innerKeys);
  });

  it("needs every cluster command it grants (ASK redirects, which only resharding causes, aside)", async () => {
    const rules = aclRules({ keyPrefix: "tenant-d", cluster: true, durability: true, clientInfo });
    const unneeded: string[] = [];
    for (const command of ["", ...ACL_COMMANDS.cluster.filter((c) => c !== "asking")]) {
      for (const admin of admins) {
        await setUser(
          admin,
          "minimal",
          rules.filter((rule) => rule !== `+${command}`),
        );
        await admin.call("ACL", ["LOG", "RESET"]);
      }
      const minimal = new Cluster(
        cluster.servers.map((s) => ({ host: "127.0.0.1", port: s.port })),
        {
          redisOptions: { ...failFast, username: "minimal", password: "minimal-password" },
          clusterRetryStrategy: () => null,
        },
      );
      minimal.on("error", () => {});
      const failed = await runWorkload(minimal, "tenant-d").then(
        () => false,
        () => true,
      );
      minimal.disconnect();
      let denials_ = 0;
      for (const admin of admins) denials_ += (await denials(admin)).length;
      const denied = denials_ > 0;
      if (command === "") expect({ failed, denied }).toEqual({ failed: false, denied: false });
      else if (!failed && !denied) unneeded.push(command);
    }
    expect(unneeded).toEqual([]);
  });
});

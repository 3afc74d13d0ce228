/**
 * Opening clients from URLs and checking the client handed in, against the harness' real servers: passwords with
 * ":" reach the server whole, malformed URLs and objects that are not clients throw InvalidOptionError, a cluster
 * that cannot be reached (wrong password, no node listening) fails with RedisConnectionError instead of hanging,
 * cluster options pass through fromUrl, and a standalone client on a cluster node is told to use a Cluster client.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { Annotation, END, MemorySaver, START, StateGraph } from "@langchain/langgraph";
import { Cluster, Redis } from "ioredis";
import { freePort } from "../../scripts/local-redis.js";
import {
  clientFromUrl,
  guarded,
  InvalidOptionError,
  RedisCache,
  type RedisClient,
  RedisConnectionError,
  RedisSaver,
  RedisStore,
  startAuditSink,
  withRunLease,
} from "../../src/index.js";
import { finished, startChild, stopAll } from "../helpers/child-process.js";
import { clusterNodes, redisUrl, testPrefix } from "../helpers/redis.js";

const user = `url-user-${randomBytes(4).toString("hex")}`;
const password = "pa:ss@w/rd%";
const encoded = encodeURIComponent(password);
const nodes = clusterNodes();
const hosts = nodes.map((n) => `${n.host}:${n.port}`).join(",");
const standalone = new URL(redisUrl());
const opened: RedisClient[] = [];
const admins: Redis[] = [];

function track<T extends RedisClient>(client: T): T {
  opened.push(client);
  client.on("error", () => {});
  return client;
}

async function errorOf(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error("nothing was thrown");
}

beforeAll(async () => {
  for (const address of [...nodes, { host: standalone.hostname, port: Number(standalone.port) }]) {
    const admin = new Redis({ ...address, maxRetriesPerRequest: 1 });
    admins.push(admin);
    await admin.call("ACL", ["SETUSER", user, "reset", "on", `>${password}`, "~*", "+@all"]);
  }
});

afterAll(async () => {
  for (const client of opened) client.disconnect();
  for (const admin of admins) {
    await admin.call("ACL", ["DELUSER", user]).catch(() => {});
    admin.disconnect();
  }
});

describe("clientFromUrl", () => {
  it("passes a password holding ':' (and encoded '@', '/', '%') whole, on a cluster and standalone", async () => {
    const cluster = track(clientFromUrl(`redis+cluster://${user}:pa:ss%40w%2Frd%25@${hosts}`));
    expect(cluster).toBeInstanceOf(Cluster);
    expect(await cluster.call("ACL", ["WHOAMI"])).toBe(user);
    const cluster2 = track(clientFromUrl(`redis+cluster://${user}:${encoded}@${hosts}`));
    expect(await cluster2.call("ACL", ["WHOAMI"])).toBe(user);
    const single = track(clientFromUrl(`redis://${user}:${encoded}@${standalone.host}/0`));
    expect(await single.call("ACL", ["WHOAMI"])).toBe(user);
  });

  it.each([
    ["not a url", /unknown scheme or not a URL/],
    ["http://127.0.0.1:6379", /unknown scheme/],
    ["redis://host:port", /the URL parser refuses it/],
    ["redis://127.0.0.1:6379/x", /database number/],
    ["redis+cluster://", /no hosts/],
    [`redis+cluster://${user}:secret-pw@`, /no hosts/],
    ["redis+cluster://127.0.0.1:a:b:c", /"127\.0\.0\.1:a:b:c" is not a host:port/],
    ["redis+cluster://127.0.0.1:7000,,127.0.0.1:7001", /"" is not a host:port/],
    ["redis+cluster://127.0.0.1:99999", /is not a host:port/],
    ["redis+cluster://127.0.0.1:7000/3", /only database 0/],
  ])("refuses %s with InvalidOptionError naming the problem, never echoing a password", async (url, problem) => {
    const error = await errorOf(() => clientFromUrl(url));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe("clientFromUrl.url");
    expect((error as Error).message).toMatch(problem);
    expect((error as Error).message).not.toContain("secret-pw");
    expect(await errorOf(() => RedisSaver.fromUrl(url))).toBeInstanceOf(InvalidOptionError);
    expect(await errorOf(() => RedisStore.fromUrl(url))).toBeInstanceOf(InvalidOptionError);
  });

  it("refuses a URL that is not a string", async () => {
    expect(await errorOf(() => clientFromUrl(42 as never))).toBeInstanceOf(InvalidOptionError);
  });

  it("a cluster with a wrong password fails with RedisConnectionError instead of hanging", async () => {
    const saver = RedisSaver.fromUrl(`redis+cluster://${user}:wrong-secret@${hosts}`);
    saver.client.on("error", () => {});
    const error = await errorOf(() => saver.getTuple({ configurable: { thread_id: "t" } }));
    await saver.close();
    expect(error).toBeInstanceOf(RedisConnectionError);
    expect((error as Error).message).toMatch(
      /no startup node answered; check the addresses, the user name and password/,
    );
    expect((error as Error).message).not.toContain("wrong-secret");
  });

  it("a cluster URL naming a port nobody listens on fails with RedisConnectionError", async () => {
    const port = await freePort();
    const client = track(clientFromUrl(`redis+cluster://127.0.0.1:${port}`));
    const store = new RedisStore({ client, keyPrefix: testPrefix("down") });
    expect(await errorOf(() => store.put(["ns"], "k", { a: 1 }))).toBeInstanceOf(RedisConnectionError);
    const saver = RedisSaver.fromUrl(`redis+cluster://127.0.0.1:${port}`);
    const error = await errorOf(() => saver.getTuple({ configurable: { thread_id: "t" } }));
    await saver.close();
    expect(error).toBeInstanceOf(RedisConnectionError);
  });

  it("passes cluster options through, and keeps the bounded retry unless they replace it", async () => {
    const natMap = { "10.0.0.1:6379": { host: "127.0.0.1", port: 6379 } };
    const retry = (times: number) => (times > 1 ? null : 50);
    const cluster = track(
      clientFromUrl(`redis+cluster://${hosts}`, {
        connectTimeout: 1234,
        cluster: { natMap, clusterRetryStrategy: retry, redisOptions: { connectionName: "from-url" } },
      }),
    ) as Cluster;
    expect(cluster.options.natMap).toBe(natMap);
    expect(cluster.options.clusterRetryStrategy).toBe(retry);
    expect(cluster.options.redisOptions).toMatchObject({ connectTimeout: 1234, connectionName: "from-url" });
    const saver = RedisSaver.fromUrl(`redis+cluster://${hosts}`, {}, { cluster: { scaleReads: "master" } });
    expect((saver.client as Cluster).options.scaleReads).toBe("master");
    const defaults = (saver.client as Cluster).options;
    expect(defaults.clusterRetryStrategy?.(100, new Error("down"))).toBeNull();
    expect(await saver.getTuple({ configurable: { thread_id: "none" } })).toBeUndefined();
    await saver.close();
  });
});

describe("clients the fromUrl factories open", () => {
  it("send connection errors to the library's logger once per run, not to the console; commands still fail; close() returns", async () => {
    const port = await freePort();
    const child = startChild(
      ["--import", "tsx", join("test", "foundation", "fixtures", "url-client-errors.ts"), `redis://127.0.0.1:${port}`],
      { env: { NODE_DEBUG: "langgraph-redis" } },
    );
    try {
      const lines = await finished(child, 60_000);
      const { code, stderr } = await child.exited;
      expect(code, stderr).toBe(0);
      expect(stderr).not.toContain("Unhandled error event");
      // Not hidden: each operation failed with the named error, and the caller's own listener got every event.
      expect(lines.filter((line) => line.startsWith("OP "))).toEqual([
        "OP RedisConnectionError",
        "OP RedisConnectionError",
      ]);
      const userEvents = Number(lines.find((line) => line.startsWith("USER "))?.slice(5));
      expect(userEvents).toBeGreaterThanOrEqual(4);
      // Logged once per client for the whole run of identical ECONNREFUSED errors: the saver, the store, the cache.
      const logged = stderr.split("\n").filter((line) => line.includes("client opened from a URL"));
      expect(logged).toHaveLength(3);
      expect(logged.every((line) => line.includes("ECONNREFUSED"))).toBe(true);
    } finally {
      await stopAll();
    }
  });
});

describe("the client option", () => {
  const fake = { defineCommand() {} };
  const graph = () =>
    new StateGraph(Annotation.Root({ n: Annotation<number> }))
      .addNode("step", () => ({ n: 1 }))
      .addEdge(START, "step")
      .addEdge("step", END)
      .compile({ checkpointer: new MemorySaver() });

  it("an object with only defineCommand is not a client: InvalidOptionError everywhere", async () => {
    for (const make of [
      () => new RedisSaver({ client: fake as never }),
      () => new RedisStore({ client: fake as never }),
      () => guarded(async () => ({}), { client: fake as never }),
      () => withRunLease(graph(), { client: fake as never }),
    ]) {
      const error = await errorOf(make);
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as Error).message).toMatch(/\.client`: expected an ioredis Redis or Cluster instance/);
    }
  });

  it.each([
    ["stringNumbers: true", { stringNumbers: true }],
    ['replyMapping: "resp3"', { protocol: 3, replyMapping: "resp3" }],
  ] as const)("a client with %s (replies the library would misread) is refused everywhere", async (option, replies) => {
    const standalone = track(new Redis(redisUrl(), { ...replies, lazyConnect: true }));
    const cluster = track(new Cluster(nodes, { lazyConnect: true, redisOptions: { ...replies } }));
    for (const client of [standalone, cluster] as RedisClient[]) {
      for (const make of [
        () => new RedisSaver({ client }),
        () => new RedisStore({ client }),
        () => new RedisCache({ client }),
        () => guarded(async () => ({}), { client }),
        () => withRunLease(graph(), { client }),
        () => startAuditSink({ client, postgres: "postgres://127.0.0.1:1/none" }),
      ]) {
        const error = await errorOf(make);
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect((error as Error).message).toContain(`.client\`: expected a client whose replies keep ioredis's default`);
        expect((error as Error).message).toContain(`\`${option}\``);
      }
    }
  });

  it("a client with protocol 2 (RESP2) or 3 (ioredis's default) works: checkpoints, listing, store search", async () => {
    for (const protocol of [2, 3] as const) {
      const client = track(new Redis(redisUrl(), { protocol, maxRetriesPerRequest: 1 }));
      const keyPrefix = testPrefix(`resp${protocol}`);
      const saver = new RedisSaver({ client, keyPrefix });
      const store = new RedisStore({ client, keyPrefix, filterIndex: { fields: { total: "number" } } });
      const app = new StateGraph(Annotation.Root({ n: Annotation<number> }))
        .addNode("step", (state) => ({ n: state.n + 1 }))
        .addEdge(START, "step")
        .addEdge("step", END)
        .compile({ checkpointer: saver });
      for (const thread_id of ["a", "b"]) await app.invoke({ n: 1 }, { configurable: { thread_id } });
      const threads = new Set<string>();
      for await (const tuple of saver.list({}, { limit: 10 }))
        threads.add(String(tuple.config.configurable?.thread_id));
      expect([...threads].sort()).toEqual(["a", "b"]);
      expect((await saver.getTuple({ configurable: { thread_id: "b" } }))?.checkpoint.channel_values).toEqual({ n: 2 });
      for (let i = 0; i < 5; i++) await store.put(["orders"], `o${i}`, { total: i * 10 });
      const found = await store.search(["orders"], { filter: { total: { $gte: 20 } }, limit: 10 });
      expect(found.map((item) => item.key).sort()).toEqual(["o2", "o3", "o4"]);
    }
  });

  it("a standalone client on a cluster node is told to use a Cluster client", async () => {
    const plain = nodes.map(({ host, port }) => track(new Redis({ host, port, maxRetriesPerRequest: 1 })));
    const prefix = testPrefix("plain");
    for (const client of plain) {
      const saver = new RedisSaver({ client, keyPrefix: prefix });
      const store = new RedisStore({ client, keyPrefix: prefix });
      for (const error of [
        await errorOf(() => saver.getTuple({ configurable: { thread_id: "t" } })),
        await errorOf(() => store.put(["ns"], "k", { a: 1 })),
      ]) {
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect((error as Error).message).toMatch(/since the server is a Redis Cluster node.*use a Cluster client/);
      }
    }
    // guarded() and a run lease of one thread touch one slot each: the two masters that do not own it answer MOVED
    // (the same lock and the same thread on every node, so exactly one owns the slot)
    const outcomes = async (run: (client: Redis) => Promise<unknown>) => {
      const results = await Promise.all(
        plain.map((client) =>
          run(client).then(
            () => undefined,
            (e: unknown) => e,
          ),
        ),
      );
      return results.filter((e) => e instanceof InvalidOptionError && /use a Cluster client/.test(e.message)).length;
    };
    const lock = (client: Redis) =>
      guarded(async () => ({}), { client, keyPrefix: prefix, key: "order:1" })({}, {}) as Promise<unknown>;
    expect(await outcomes(lock)).toBe(nodes.length - 1);
    const lease = (client: Redis) =>
      withRunLease(graph(), { client, keyPrefix: prefix, name: "g" }).invoke(
        { n: 0 },
        { configurable: { thread_id: "lease-plain" } },
      );
    expect(await outcomes(lease)).toBe(nodes.length - 1);
  });
});

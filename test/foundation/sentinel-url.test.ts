/**
 * `redis+sentinel://` URLs (clientFromUrl, the `fromUrl` factories, the inspector's --url) against a real master
 * watched by a real sentinel: the client asks the sentinels for the master of the named group (past a sentinel that
 * is down), authenticates with the URL's credentials, selects the database of the path, and the library works
 * through it. A wrong master name fails with RedisConnectionError within seconds, while a client that was connected
 * keeps asking sentinels that went away; malformed URLs throw InvalidOptionError. Following a failover through such a
 * URL is test/faults/sentinel.test.ts; TLS-only sentinels, test/security/tls.test.ts.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import {
  freePort,
  type LocalRedis,
  type LocalSentinels,
  startRedis,
  startSentinels,
} from "../../scripts/local-redis.js";
import { SENTINEL_CONNECT_ATTEMPTS } from "../../src/client.js";
import { clientFromUrl, InvalidOptionError, RedisConnectionError, RedisSaver, RedisStore } from "../../src/index.js";
import { testPrefix } from "../helpers/redis.js";
import { runCli } from "../inspector/run-cli.js";

const user = `sentinel-user-${randomBytes(4).toString("hex")}`;
const password = "se:cr@t";
let master: LocalRedis | undefined;
let sentinels: LocalSentinels | undefined;
let deadPort = 0;
const opened: Redis[] = [];

function sentinelUrl(name: string, path = ""): string {
  const hosts = [`127.0.0.1:${deadPort}`, ...(sentinels as LocalSentinels).ports.map((p) => `127.0.0.1:${p}`)];
  return `redis+sentinel://${user}:${encodeURIComponent(password)}@${hosts.join(",")}/${name}${path}`;
}

function track(client: Redis): Redis {
  opened.push(client);
  client.on("error", () => {});
  return client;
}

beforeAll(async () => {
  master = await startRedis();
  const admin = new Redis(master.port, "127.0.0.1");
  await admin.call("ACL", ["SETUSER", user, "reset", "on", `>${password}`, "~*", "&*", "+@all"]);
  admin.disconnect();
  sentinels = await startSentinels(master.port, 0, 1);
  // No sentinel listens here: the client goes on to the next one.
  deadPort = await freePort();
});

afterAll(async () => {
  for (const client of opened) client.disconnect();
  await sentinels?.stop();
  await master?.stop();
});

describe("redis+sentinel:// URLs", () => {
  it("connect to the group's master as the URL's user, in the path's database", async () => {
    const group = sentinels as LocalSentinels;
    const client = track(clientFromUrl(sentinelUrl(group.name, "/3")) as Redis);
    expect(await client.call("ACL", ["WHOAMI"])).toBe(user);
    const info = await client.info("server");
    expect(Number(/tcp_port:(\d+)/.exec(info)?.[1])).toBe(master?.port);
    expect(String(await client.call("CLIENT", ["INFO"]))).toMatch(/ db=3 /);
    expect(client.options.name).toBe(group.name);
  });

  it("carry the saver, the store and the inspector", async () => {
    const group = sentinels as LocalSentinels;
    const keyPrefix = testPrefix("sentinel-url");
    const saver = RedisSaver.fromUrl(sentinelUrl(group.name), { keyPrefix });
    const store = RedisStore.fromUrl(sentinelUrl(group.name), { keyPrefix });
    try {
      const config = { configurable: { thread_id: "order-1", checkpoint_ns: "" } };
      const checkpoint = {
        v: 4,
        id: "1f1ee363-504f-6cc0-8013-8886be19f3e3",
        ts: new Date().toISOString(),
        channel_values: { step: 1 },
        channel_versions: { step: 1 },
        versions_seen: {},
      };
      await saver.put(config, checkpoint, { source: "loop", step: 1, parents: {} }, { step: 1 });
      expect((await saver.getTuple(config))?.checkpoint.channel_values).toEqual({ step: 1 });
      await store.put(["orders"], "order-1", { status: "paid" });
      expect((await store.get(["orders"], "order-1"))?.value).toEqual({ status: "paid" });

      const run = await runCli([
        "threads",
        "--json",
        "--quiet",
        "--url",
        sentinelUrl(group.name),
        "--prefix",
        keyPrefix,
      ]);
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.stringify(run.json())).toContain("order-1");
    } finally {
      await saver.close();
      await store.close();
    }
  });

  it("fail with RedisConnectionError within seconds when no sentinel knows the master name", async () => {
    const keyPrefix = testPrefix("sentinel-url");
    const saver = RedisSaver.fromUrl(sentinelUrl("no-such-group"), { keyPrefix });
    try {
      const started = performance.now();
      const error = await saver.getTuple({ configurable: { thread_id: "t" } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RedisConnectionError);
      expect((error as Error).message).toMatch(/All sentinels are unreachable.*master name/);
      expect(performance.now() - started).toBeLessThan(30_000);
    } finally {
      await saver.close();
    }
    const run = await runCli(["threads", "--url", sentinelUrl("no-such-group"), "--prefix", keyPrefix]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/sentinels/);
    expect(run.stderr).not.toContain(password);
  });

  it("give up after a few rounds only before the first connection: a connected client waits for the sentinels", async () => {
    const group = await startSentinels((master as LocalRedis).port, 0, 1);
    try {
      const url = `redis+sentinel://127.0.0.1:${group.ports[0]}/${group.name}`;
      const client = track(clientFromUrl(url) as Redis);
      await client.ping();
      const rounds: string[] = [];
      client.on("error", (error: Error) => {
        if (/^All sentinels are unreachable/.test(error.message)) rounds.push(error.message);
      });
      await group.stop();
      // Its connection dropped: it asks the sentinels again, and none answers.
      const id = await client.client("ID");
      await client.call("CLIENT", ["KILL", "ID", String(id), "SKIPME", "no"]).catch(() => undefined);
      const deadline = performance.now() + 60_000;
      while (rounds.length <= SENTINEL_CONNECT_ATTEMPTS && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(rounds.length).toBeGreaterThan(SENTINEL_CONNECT_ATTEMPTS);
      expect(rounds.at(-1)).toMatch(/Retrying from scratch/);
      expect(client.status).not.toBe("end");
    } finally {
      await group.stop();
    }
  });

  it("default the sentinel port to 26379 and use TLS everywhere with rediss+sentinel://", () => {
    const plain = track(
      clientFromUrl("redis+sentinel://10.0.0.1,10.0.0.2:5000/agents", { lazyConnect: true }) as Redis,
    );
    expect(plain.options.sentinels).toEqual([
      { host: "10.0.0.1", port: 26379 },
      { host: "10.0.0.2", port: 5000 },
    ]);
    expect(plain.options.db).toBe(0);
    expect(plain.options.tls).toBeUndefined();
    const tls = track(clientFromUrl("rediss+sentinel://[::1]:26380/my%20group/2", { lazyConnect: true }) as Redis);
    expect(tls.options.sentinels).toEqual([{ host: "::1", port: 26380 }]);
    expect(tls.options.name).toBe("my group");
    expect(tls.options.db).toBe(2);
    expect(tls.options.enableTLSForSentinelMode).toBe(true);
    expect(tls.options.tls).toEqual({});
    expect(tls.options.sentinelTLS).toEqual({});
    const own = track(
      clientFromUrl("redis+sentinel://10.0.0.1/agents", {
        lazyConnect: true,
        sentinelPassword: "sentinels-own",
        sentinelRetryStrategy: () => 5,
      }) as Redis,
    );
    expect(own.options.sentinelPassword).toBe("sentinels-own");
    expect(own.options.sentinelRetryStrategy?.(100)).toBe(5);
  });

  it.each([
    ["redis+sentinel://10.0.0.1:26379", /names its master/],
    ["redis+sentinel://10.0.0.1:26379/", /names its master/],
    ["redis+sentinel://10.0.0.1:26379/agents/x", /names its master/],
    ["redis+sentinel://10.0.0.1:26379/agents?db=1", /names its master/],
    ["redis+sentinel://u:secret@/agents", /no hosts/],
    ["redis+sentinel://u:secret@a:b:c/agents", /is not a host:port/],
  ])("refuse %s with InvalidOptionError", (url, problem) => {
    const error = (() => {
      try {
        clientFromUrl(url, { lazyConnect: true });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as Error).message).toMatch(problem);
    expect((error as Error).message).not.toContain("secret");
  });
});

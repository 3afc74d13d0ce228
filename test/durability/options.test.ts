/**
 * The `durability` option of RedisSaver and RedisStore, against servers configured for each case: the start-up
 * check refuses before anything is written, WAIT confirms writes on a replica or reports that it could not, and
 * WAITAOF is refused (or skipped) where the server lacks it.
 */
import type { Redis } from "ioredis";
import {
  DurabilityError,
  type DurabilityWarning,
  InvalidOptionError,
  RedisSaver,
  RedisStore,
  UnsupportedServerError,
} from "../../src/index.js";
import { canStartServers, connect, startServer } from "../helpers/local-servers.js";
import { testPrefix } from "../helpers/redis.js";

const checkpoint = (id: string) => ({
  v: 4,
  id,
  ts: "2025-01-01T00:00:00.000Z",
  channel_values: { c: id },
  channel_versions: { c: 1 },
  versions_seen: {},
});
const meta = { source: "input" as const, step: -1, parents: {} };
const put = (saver: RedisSaver, id: string) =>
  saver.put({ configurable: { thread_id: "t", checkpoint_ns: "" } }, checkpoint(id), meta, { c: 1 });
const read = (saver: RedisSaver, id: string) =>
  saver.getTuple({ configurable: { thread_id: "t", checkpoint_ns: "", checkpoint_id: id } });

async function linkedReplica(masterPort: number): Promise<Redis> {
  const replica = connect((await startServer(["--replicaof", "127.0.0.1", String(masterPort)])).url);
  for (let attempt = 0; attempt < 400; attempt++) {
    if ((await replica.info("replication")).includes("master_link_status:up")) return replica;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the replica never linked to its master");
}

describe.skipIf(!canStartServers)("durability option (needs redis-server on PATH)", () => {
  it("check: refuse stops the first write of a saver and of a store on a server without persistence", async () => {
    const client = connect((await startServer()).url);
    const keyPrefix = testPrefix("dur");
    const saver = new RedisSaver({ client, keyPrefix, durability: { check: "refuse" } });
    await expect(put(saver, "c1")).rejects.toThrow(DurabilityError);
    expect(await new RedisSaver({ client, keyPrefix }).getTuple({ configurable: { thread_id: "t" } })).toBeUndefined();
    const store = new RedisStore({ client, keyPrefix, durability: { check: "refuse", require: "persisted" } });
    await expect(store.put(["n"], "k", { v: 1 })).rejects.toThrow(/persistence is off/);
    expect(await new RedisStore({ client, keyPrefix }).get(["n"], "k")).toBeNull();
  });

  it("check: passes on appendonly yes + appendfsync always, and warns instead when asked to", async () => {
    const durable = connect((await startServer(["--appendonly", "yes", "--appendfsync", "always"])).url);
    const saver = new RedisSaver({ client: durable, keyPrefix: testPrefix("dur"), durability: { check: "refuse" } });
    await put(saver, "c1");
    expect((await read(saver, "c1"))?.checkpoint.channel_values).toEqual({ c: "c1" });

    const warnings: DurabilityWarning[] = [];
    const lax = connect((await startServer(["--appendonly", "yes", "--appendfsync", "everysec"])).url);
    const store = new RedisStore({
      client: lax,
      keyPrefix: testPrefix("dur"),
      durability: { check: "warn", onWarning: (w) => warnings.push(w) },
    });
    await store.put(["n"], "a", { v: 1 });
    await store.put(["n"], "b", { v: 2 });
    expect(warnings).toEqual([
      expect.objectContaining({ kind: "problem", message: expect.stringMatching(/everysec/) }),
    ]);
  });

  it("waitForReplicas: a write a replica has is acknowledged; without a replica it is reported", async () => {
    const master = await startServer(["--repl-diskless-sync-delay", "0"]);
    const replica = await linkedReplica(master.port);
    const client = connect(master.url);
    const keyPrefix = testPrefix("dur");
    const saver = new RedisSaver({ client, keyPrefix, durability: { waitForReplicas: 1, waitTimeoutMs: 10_000 } });
    const store = new RedisStore({ client, keyPrefix, durability: { waitForReplicas: 1, waitTimeoutMs: 10_000 } });
    for (let i = 0; i < 5; i++) {
      await put(saver, `c${i}`);
      // acknowledged means on the replica already: read it there at once
      expect((await read(new RedisSaver({ client: replica, keyPrefix }), `c${i}`))?.checkpoint.id).toBe(`c${i}`);
      await store.put(["n"], `k${i}`, { i });
      expect((await new RedisStore({ client: replica, keyPrefix }).get(["n"], `k${i}`))?.value).toEqual({ i });
    }

    const alone = connect((await startServer()).url);
    const waiting = new RedisSaver({ client: alone, keyPrefix, durability: { waitForReplicas: 1, waitTimeoutMs: 50 } });
    await expect(put(waiting, "lonely")).rejects.toThrow(/written on the master, but within 50 ms 0 of 1 replicas/);
    // not confirmed, but applied on the master
    expect((await read(waiting, "lonely"))?.checkpoint.id).toBe("lonely");
  });

  it("waitForAof on a server without WAITAOF: refused before writing, or skipped with a warning", async (context) => {
    const client = connect((await startServer(["--appendonly", "yes"])).url);
    const [major = 0, minor = 0] = (/redis_version:(\d+)\.(\d+)/.exec(await client.info("server")) ?? [])
      .slice(1)
      .map(Number);
    if (major > 7 || (major === 7 && minor >= 2)) context.skip("this server has WAITAOF (Redis 7.2+)");
    const keyPrefix = testPrefix("dur");
    const strict = new RedisSaver({ client, keyPrefix, durability: { waitForAof: true } });
    await expect(put(strict, "c1")).rejects.toThrow(UnsupportedServerError);
    expect(await read(strict, "c1")).toBeUndefined();

    const warnings: DurabilityWarning[] = [];
    const lenient = new RedisStore({
      client,
      keyPrefix,
      durability: { waitForAof: true, onUnsupported: "skip", onWarning: (w) => warnings.push(w) },
    });
    await lenient.put(["n"], "k", { v: 1 });
    expect(warnings.map((w) => w.kind)).toEqual(["unsupported"]);
  });

  it("waitForAof on a server with WAITAOF (Redis 7.2+): confirmed on the AOF, and on a replica's", async (context) => {
    const master = await startServer(["--appendonly", "yes", "--repl-diskless-sync-delay", "0"]);
    const client = connect(master.url);
    const [major = 0, minor = 0] = (/redis_version:(\d+)\.(\d+)/.exec(await client.info("server")) ?? [])
      .slice(1)
      .map(Number);
    if (major < 7 || (major === 7 && minor < 2)) context.skip("this server has no WAITAOF (Redis 7.2+ has it)");
    const keyPrefix = testPrefix("dur");
    const local = new RedisSaver({ client, keyPrefix, durability: { waitForAof: true, waitTimeoutMs: 10_000 } });
    await put(local, "c1");
    expect((await read(local, "c1"))?.checkpoint.id).toBe("c1");

    const replica = await linkedReplica(master.port);
    await replica.config("SET", "appendonly", "yes");
    const both = new RedisStore({
      client,
      keyPrefix,
      durability: { waitForAof: true, waitForReplicas: 1, waitTimeoutMs: 10_000 },
    });
    await both.put(["n"], "k", { v: 1 });
    expect((await new RedisStore({ client: replica, keyPrefix }).get(["n"], "k"))?.value).toEqual({ v: 1 });

    // without an AOF on the master there is nothing to wait for: refused before anything is written
    const plain = connect((await startServer()).url);
    const refused = new RedisSaver({ client: plain, keyPrefix, durability: { waitForAof: true } });
    await expect(put(refused, "c2")).rejects.toThrow(/waitForAof needs appendonly yes.*nothing was written/);
    expect(await read(refused, "c2")).toBeUndefined();
  });

  it("names the option when it is wrong", () => {
    const client = connect("redis://127.0.0.1:1", { lazyConnect: true });
    expect(() => new RedisSaver({ client, durability: { waitForReplicas: -1 } })).toThrow(InvalidOptionError);
    expect(() => new RedisStore({ client, durability: { check: "maybe" as never } })).toThrow(/durability\.check/);
  });
});

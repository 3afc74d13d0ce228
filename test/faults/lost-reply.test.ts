/**
 * A write whose reply is lost: Redis runs it, then the connection is killed before the reply goes out. ioredis (by
 * default) sends the unanswered command again after reconnecting, so the server runs it twice. Each library write
 * must take effect exactly once: one version, one history entry, a compare-and-set that reports success.
 *
 * Made deterministic with DEBUG SLEEP on a server of our own: while it sleeps, the write and then CLIENT KILL for
 * its connection queue up (the kill is sent once the client has the write in flight); when it wakes it runs the
 * write, then the kill, so the reply is dropped.
 */
import { Redis } from "ioredis";
import { type LocalRedis, startRedis } from "../../scripts/local-redis.js";
import { RedisSaver, RedisStore } from "../../src/index.js";
import { recordCounts } from "../helpers/counts.js";

let server: LocalRedis;
let admin: Redis;
let victim: Redis;

beforeAll(async () => {
  server = await startRedis(["--enable-debug-command", "yes"]);
  admin = new Redis(server.url, { maxRetriesPerRequest: 1 });
  // ioredis defaults: reconnect, and resend commands whose reply never came
  victim = new Redis(server.url);
});
afterAll(async () => {
  victim?.disconnect();
  admin?.disconnect();
  await server?.stop();
});

/** Script runs (EVAL and EVALSHA) the server has done so far. */
async function scriptRuns(): Promise<number> {
  const stats = await admin.info("commandstats");
  const calls = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
  return calls("eval") + calls("evalsha");
}

/**
 * Runs `write` so that its reply is lost once; returns its result and how many times the server ran scripts for it
 * (2: the original and ioredis' resend).
 */
async function withLostReply<T>(write: () => Promise<T>): Promise<{ result: T; runs: number }> {
  const before = await scriptRuns();
  const id = String(await victim.client("ID"));
  // connected before the server sleeps, so its CLIENT KILL queues up right behind the write
  const killer = new Redis(server.url, { maxRetriesPerRequest: 1 });
  await killer.ping();
  const sleeping = admin.call("DEBUG", ["SLEEP", "1"]);
  await new Promise((r) => setTimeout(r, 60));
  const pending = write();
  // Kill only once the write is on the wire (ioredis' queue of commands awaiting a reply), however long the client
  // took to build it on a loaded machine; the server sleeps long enough for that.
  const inFlight = (victim as unknown as { commandQueue: { length: number } }).commandQueue;
  for (let waited = 0; inFlight.length === 0 && waited < 700; waited += 5) {
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 20));
  const killed = killer.client("KILL", "ID", id);
  await sleeping;
  expect(Number(await killed)).toBe(1);
  killer.disconnect();
  const result = await pending;
  return { result, runs: (await scriptRuns()) - before };
}

describe("a write whose reply is lost is applied once (ioredis resends it)", () => {
  const ns = ["orders"];

  it("RedisStore.put: one version, one history entry", async (context) => {
    const store = new RedisStore({ client: victim, keyPrefix: "lost-put" });
    await store.put(ns, "warm-up", { ok: true }); // scripts loaded, namespace registered
    for (let i = 0; i < 3; i++) {
      const { runs } = await withLostReply(() => store.put(ns, `item${i}`, { n: i }));
      recordCounts(context, { faultsInjected: 1, acknowledgedWritesChecked: 1 });
      expect(runs).toBe(2);
      expect((await store.getWithVersion(ns, `item${i}`))?.version).toBe(1);
      expect(await store.history(ns, `item${i}`)).toHaveLength(1);
    }
  });

  it("RedisStore.putIfVersion: reports the success it had, not a conflict with itself", async (context) => {
    const store = new RedisStore({ client: victim, keyPrefix: "lost-cas" });
    await store.put(ns, "warm-up", { ok: true });
    const { result, runs } = await withLostReply(() => store.putIfVersion(ns, "claim", { by: "a" }, null));
    recordCounts(context, { faultsInjected: 1, acknowledgedWritesChecked: 1 });
    expect(runs).toBe(2);
    expect(result).toBe(1);
    expect(await store.history(ns, "claim")).toHaveLength(1);
  });

  it("RedisStore.batch (how LangGraph writes): one version per put", async (context) => {
    const store = new RedisStore({ client: victim, keyPrefix: "lost-batch" });
    await store.put(ns, "warm-up", { ok: true });
    const { runs } = await withLostReply(() =>
      store.batch([
        { namespace: ns, key: "a", value: { n: 1 } },
        { namespace: ns, key: "b", value: { n: 2 } },
      ]),
    );
    recordCounts(context, { faultsInjected: 1, acknowledgedWritesChecked: 2 });
    expect(runs).toBe(4);
    for (const key of ["a", "b"]) expect(await store.history(ns, key)).toHaveLength(1);
  });

  it("RedisStore.delete: one delete recorded", async (context) => {
    const store = new RedisStore({ client: victim, keyPrefix: "lost-delete" });
    await store.put(ns, "warm-up", { ok: true });
    await store.put(ns, "gone", { v: 1 });
    const { runs } = await withLostReply(() => store.delete(ns, "gone"));
    recordCounts(context, { faultsInjected: 1, acknowledgedWritesChecked: 1 });
    expect(runs).toBe(2);
    expect((await store.history(ns, "gone")).map((h) => [h.version, h.op])).toEqual([
      [2, "delete"],
      [1, "put"],
    ]);
  });

  it("RedisSaver.put and putWrites: written again identically, so one checkpoint and one write", async (context) => {
    const saver = new RedisSaver({ client: victim, keyPrefix: "lost-saver" });
    const checkpoint = (id: string) => ({
      v: 4,
      id,
      ts: "2025-01-01T00:00:00.000Z",
      channel_values: { step: id },
      channel_versions: { step: id },
      versions_seen: {},
    });
    const base = { configurable: { thread_id: "t", checkpoint_ns: "" } };
    const meta = { source: "loop" as const, step: 0, parents: {} };
    // scripts one put and one putWrites run when nothing goes wrong (the write, and the cross-thread index touch)
    let before = await scriptRuns();
    const first = await saver.put(base, checkpoint("0001"), meta, { step: "0001" });
    const putScripts = (await scriptRuns()) - before;
    before = await scriptRuns();
    await saver.putWrites(first, [["step", "first"]], "task-0");
    const writeScripts = (await scriptRuns()) - before;

    const { result: config, runs } = await withLostReply(() =>
      saver.put(base, checkpoint("0002"), meta, { step: "0002" }),
    );
    expect(runs).toBeGreaterThan(putScripts); // it did run again
    // The lost reply replaced the connection, and ioredis sends a script as EVAL, with its whole source, the first
    // time on a connection: the putWrites script is larger than what Redis reads of a client at once (16 KiB), so the
    // kill would run before the write was read in full. A first putWrites on the new connection loads it.
    await saver.putWrites(first, [["step", "warm"]], "task-warm");
    const writes = await withLostReply(() => saver.putWrites(config, [["step", "pending"]], "task-1"));
    expect(writes.runs).toBeGreaterThan(writeScripts);
    recordCounts(context, { faultsInjected: 2, acknowledgedWritesChecked: 2 });
    const listed = [];
    for await (const tuple of saver.list({ configurable: { thread_id: "t" } })) listed.push(tuple.checkpoint.id);
    expect(listed).toEqual(["0002", "0001"]);
    const tuple = await saver.getTuple(config);
    expect(tuple?.checkpoint.channel_values).toEqual({ step: "0002" });
    expect(tuple?.pendingWrites).toEqual([["task-1", "step", "pending"]]);
  });
});

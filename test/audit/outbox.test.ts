/**
 * The outbox: an audited write appends exactly one event to the stream of its slot in the same script; a refused
 * write appends none (or a refusal event, for a fence); the stream is registered for the sink before its first event.
 */
import { describe, expect, it } from "vitest";
import { keySlot } from "../../src/audit/slots.js";
import type { RedisClient } from "../../src/client.js";
import {
  currentFence,
  FencedWriteError,
  guarded,
  LockLostError,
  RedisSaver,
  RedisStore,
  VersionConflictError,
} from "../../src/index.js";
import { auditRegistryKey, fenceCounterKey, lockKey, saverThreadKeys, storeNamespaceKeys } from "../../src/keys.js";
import { targets, testPrefix } from "../helpers/redis.js";

interface StreamEvent {
  id: string;
  fields: Record<string, string>;
}

async function allEvents(client: RedisClient, prefix: string): Promise<StreamEvent[]> {
  const streams = await client.smembers(auditRegistryKey(prefix));
  const events: StreamEvent[] = [];
  for (const stream of streams) {
    const entries = (await client.xrange(stream, "-", "+")) as [string, string[]][];
    for (const [id, flat] of entries) {
      const fields: Record<string, string> = {};
      for (let i = 0; i < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
      events.push({ id, fields });
    }
  }
  return events.sort((a, b) => Number(a.fields.atMs) - Number(b.fields.atMs));
}

const checkpoint = (id: string) => ({
  v: 4,
  id,
  ts: new Date().toISOString(),
  channel_values: { topic: "refund" },
  channel_versions: { topic: 1 },
  versions_seen: {},
});

describe.each(targets)("audit outbox ($name)", ({ name, connect }) => {
  it("a store put and delete each append one event; a version conflict appends none", async () => {
    const client = connect();
    const prefix = testPrefix("au");
    const store = new RedisStore({ client, keyPrefix: prefix, audit: { agentId: "fraud-agent" } });
    await store.put(["orders"], "o1", { status: "new" }, { writer: "payment-agent" });
    await expect(store.putIfVersion(["orders"], "o1", { status: "paid" }, 7)).rejects.toBeInstanceOf(
      VersionConflictError,
    );
    await store.delete(["orders"], "o1");
    await store.delete(["orders"], "never-there");
    const events = await allEvents(client, prefix);
    expect(events.map((e) => [e.fields.kind, e.fields.version])).toEqual([
      ["store.put", "1"],
      ["store.delete", "2"],
    ]);
    const put = JSON.parse(events[0]?.fields.ctx ?? "{}");
    expect(put).toMatchObject({ namespace: ["orders"], key: "o1", agent: "payment-agent" });
    expect(put.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(put.value).toBeUndefined();
    expect(JSON.parse(events[1]?.fields.ctx ?? "{}").agent).toBe("fraud-agent");
    if (name === "cluster") {
      const stream = (await client.smembers(auditRegistryKey(prefix)))[0] as string;
      expect(keySlot(stream)).toBe(keySlot(storeNamespaceKeys(prefix, ["orders"]).items));
    }
  });

  it("includeValues keeps the JSON value in the event", async () => {
    const client = connect();
    const prefix = testPrefix("au");
    const store = new RedisStore({ client, keyPrefix: prefix, audit: { includeValues: true } });
    await store.put(["orders"], "o2", { amount: 12000 });
    const [event] = await allEvents(client, prefix);
    expect(JSON.parse(JSON.parse(event?.fields.ctx ?? "{}").value)).toEqual({ amount: 12000 });
  });

  it("with compression the event still records the JSON value and its hash, not the stored bytes", async () => {
    const client = connect();
    const prefix = testPrefix("au");
    const value = { note: "the customer prefers morning calls about the invoice ".repeat(40) };
    const audit = { includeValues: true };
    await new RedisStore({ client, keyPrefix: prefix, audit }).put(["orders"], "plain", value);
    await new RedisStore({ client, keyPrefix: prefix, audit, compression: { minBytes: 1024 } }).put(
      ["orders"],
      "zipped",
      value,
    );
    const contexts = (await allEvents(client, prefix)).map((e) => JSON.parse(e.fields.ctx ?? "{}"));
    expect(contexts.map((c) => c.key)).toEqual(["plain", "zipped"]);
    expect(contexts[1].hash).toBe(contexts[0].hash);
    expect(JSON.parse(contexts[1].value)).toEqual(value);
  });

  it("a fenced write refused by the script is recorded as store.fenced, with no put event", async () => {
    const client = connect();
    const prefix = testPrefix("au");
    const store = new RedisStore({ client, keyPrefix: prefix, audit: true });
    // as if guarded() had issued tokens 1 to 5 for the lock (a fence is accepted only for a token issued)
    await client.set(fenceCounterKey(prefix, "order:o3"), "5");
    await store.put(["orders"], "o3", { v: 1 }, { fence: { lockKey: "order:o3", token: 5 } });
    await expect(
      store.put(["orders"], "o3", { v: 2 }, { fence: { lockKey: "order:o3", token: 4 } }),
    ).rejects.toBeInstanceOf(FencedWriteError);
    const events = await allEvents(client, prefix);
    expect(events.map((e) => e.fields.kind)).toEqual(["store.put", "store.fenced"]);
    expect(JSON.parse(events[1]?.fields.ctx ?? "{}")).toMatchObject({ lockKey: "order:o3", fenceToken: 4 });
  });

  it("a checkpoint and a task's writes each append one event (channels, not values)", async () => {
    const client = connect();
    const prefix = testPrefix("au");
    const saver = new RedisSaver({ client, keyPrefix: prefix, audit: { agentId: "planner" } });
    const config = { configurable: { thread_id: "thread-1", checkpoint_ns: "", run_id: "run-9" } };
    const saved = await saver.put(config, checkpoint("c1"), { source: "loop", step: 3, parents: {} }, { topic: 1 });
    await saver.putWrites(saved, [["topic", "secret value"]], "task-1");
    await saver.putWrites(saved, [["topic", "retried"]], "task-1"); // kept as first written: nothing new stored
    const events = await allEvents(client, prefix);
    expect(events.map((e) => e.fields.kind)).toEqual(["checkpoint", "writes"]);
    expect(JSON.parse(events[0]?.fields.ctx ?? "{}")).toMatchObject({
      threadId: "thread-1",
      checkpointId: "c1",
      step: 3,
      source: "loop",
      runId: "run-9",
      agent: "planner",
    });
    const writes = events[1]?.fields ?? {};
    expect(JSON.parse(writes.ctx ?? "{}")).toMatchObject({ taskId: "task-1", channels: ["topic"] });
    expect(JSON.stringify(writes)).not.toContain("secret value");
    if (name === "cluster") {
      const stream = (await client.smembers(auditRegistryKey(prefix)))[0] as string;
      expect(keySlot(stream)).toBe(keySlot(saverThreadKeys(prefix, "thread-1").checkpoints));
    }
  });

  it("guarded(): lock acquired (with its token) and released, both in the lock's slot", async () => {
    const client = connect();
    const prefix = testPrefix("au");
    const node = guarded(async () => ({ done: true }), {
      client,
      keyPrefix: prefix,
      key: "order:42",
      audit: { agentId: "payment-agent" },
    });
    await node({}, { configurable: { thread_id: "order-42-run", run_id: "r1" } });
    const events = await allEvents(client, prefix);
    expect(events.map((e) => e.fields.kind)).toEqual(["lock.acquired", "lock.released"]);
    expect(Number(events[0]?.fields.token)).toBeGreaterThan(0);
    expect(JSON.parse(events[0]?.fields.ctx ?? "{}")).toMatchObject({
      lockKey: "order:42",
      threadId: "order-42-run",
      runId: "r1",
      agent: "payment-agent",
    });
    expect(await client.exists(lockKey(prefix, "order:42"))).toBe(0);
    if (name === "cluster") {
      const stream = (await client.smembers(auditRegistryKey(prefix)))[0] as string;
      expect(keySlot(stream)).toBe(keySlot(lockKey(prefix, "order:42")));
    }
  });

  it("guarded(): a lock taken over while the node runs is recorded as lock.lost, and no release", async () => {
    const client = connect();
    const prefix = testPrefix("au");
    let entered: () => void = () => {};
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const run = guarded(
      async (_state: unknown, config) => {
        entered();
        await new Promise((resolve) => config.signal?.addEventListener("abort", resolve, { once: true }));
        throw config.signal?.reason;
      },
      { client, keyPrefix: prefix, key: "order:43", lockTimeoutMs: 2000, refreshIntervalMs: 30, audit: true },
    )({}, {});
    await inside;
    await client.set(lockKey(prefix, "order:43"), "other-agent", "PX", 10_000);
    await expect(run).rejects.toBeInstanceOf(LockLostError);
    const deadline = Date.now() + 10_000;
    let kinds: (string | undefined)[] = [];
    while (Date.now() < deadline) {
      kinds = (await allEvents(client, prefix)).map((e) => e.fields.kind);
      if (kinds.includes("lock.lost")) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(kinds).toEqual(["lock.acquired", "lock.lost"]);
    const [acquired, lost] = await allEvents(client, prefix);
    expect(JSON.parse(lost?.fields.ctx ?? "{}").fenceToken).toBe(Number(acquired?.fields.token));
    expect(await client.get(lockKey(prefix, "order:43"))).toBe("other-agent");
  });

  it("a write fenced out by a newer lock holder is recorded as store.fenced", async () => {
    const client = connect();
    const prefix = testPrefix("au");
    const store = new RedisStore({ client, keyPrefix: prefix, audit: true });
    let staleToken = 0;
    await guarded(
      async (_state: unknown, config) => {
        staleToken = currentFence(config, "order:44").token;
        return {};
      },
      { client, keyPrefix: prefix, key: "order:44" },
    )({}, {});
    await guarded(async () => ({}), { client, keyPrefix: prefix, key: "order:44" })({}, {});
    await expect(
      store.put(["orders"], "o44", { v: 1 }, { fence: { lockKey: "order:44", token: staleToken } }),
    ).rejects.toBeInstanceOf(FencedWriteError);
    const events = await allEvents(client, prefix);
    expect(events.map((e) => e.fields.kind)).toEqual(["store.fenced"]);
    expect(JSON.parse(events[0]?.fields.ctx ?? "{}")).toMatchObject({ key: "o44", fenceToken: staleToken });
  });

  it("without the option nothing is appended or registered", async () => {
    const client = connect();
    const prefix = testPrefix("au");
    await new RedisStore({ client, keyPrefix: prefix }).put(["orders"], "o4", { v: 1 });
    expect(await client.exists(auditRegistryKey(prefix))).toBe(0);
  });
});

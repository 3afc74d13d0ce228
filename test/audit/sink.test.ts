/**
 * The sink on real Redis (standalone and cluster) and real PostgreSQL: every acknowledged write has exactly one row,
 * a refused write none; the outbox is emptied only of delivered events; auditTrail pages through a thread, an item
 * and an agent.
 */
import { describe, expect, it, vi } from "vitest";
import {
  AuditError,
  auditTrail,
  InvalidOptionError,
  RedisSaver,
  RedisStore,
  startAuditSink,
  VersionConflictError,
} from "../../src/index.js";
import { auditRegistryKey } from "../../src/keys.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { newPool, rowsByKind, testSchema } from "./helpers.js";

const checkpoint = (id: string) => ({
  v: 4,
  id,
  ts: new Date().toISOString(),
  channel_values: { status: id },
  channel_versions: { status: id },
  versions_seen: {},
});

describe.each(targets)("audit sink ($name)", ({ connect }) => {
  it("delivers exactly one row per acknowledged write and none for refused ones, then empties the outbox", async () => {
    const client = connect();
    const pool = newPool();
    const schema = testSchema(pool);
    const keyPrefix = testPrefix("au");
    const store = new RedisStore({ client, keyPrefix, audit: { agentId: "payments" } });
    const sink = startAuditSink({ client, postgres: pool, keyPrefix, schema, pollIntervalMs: 10 });
    try {
      await sink.ready;
      let acknowledged = 0;
      let refused = 0;
      await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const key = `order-${i % 10}`;
          try {
            if (i % 4 === 3) await store.putIfVersion(["orders", `region${i % 3}`], key, { i }, 99);
            else await store.put(["orders", `region${i % 3}`], key, { i });
            acknowledged++;
          } catch (error) {
            expect(error).toBeInstanceOf(VersionConflictError);
            refused++;
          }
        }),
      );
      expect(refused).toBe(10);
      await sink.flush();
      expect(await rowsByKind(pool, schema)).toEqual({ "store.put": acknowledged });
      const { rows } = await pool.query(
        `SELECT count(DISTINCT (namespace, item_key, version)) AS n FROM "${schema}".audit_events`,
      );
      expect(Number(rows[0].n)).toBe(acknowledged);
      expect(await sink.backlog()).toBe(0);
      expect(sink.stats()).toMatchObject({ delivered: acknowledged, duplicates: 0, postgresDown: false });
      expect(sink.stats().lagP99Ms).toBeGreaterThanOrEqual(0);
    } finally {
      await sink.stop();
    }
  });

  it("keeps delivering after the wall clock steps back (its schedule is monotonic)", async () => {
    const client = connect();
    const pool = newPool();
    const schema = testSchema(pool);
    const keyPrefix = testPrefix("au-clock");
    const store = new RedisStore({ client, keyPrefix, audit: { agentId: "payments" } });
    const sink = startAuditSink({ client, postgres: pool, keyPrefix, schema, pollIntervalMs: 10, idlePollMaxMs: 50 });
    const realNow = Date.now.bind(Date);
    try {
      await sink.ready;
      await store.put(["orders"], "a", { n: 1 });
      await sink.flush();
      // Idle now, its next polls scheduled; then an NTP correction of an hour backwards.
      await new Promise((resolve) => setTimeout(resolve, 200));
      vi.spyOn(Date, "now").mockImplementation(() => realNow() - 3_600_000);
      await store.put(["orders"], "b", { n: 2 });
      await sink.flush(10_000);
      expect(await rowsByKind(pool, schema)).toEqual({ "store.put": 2 });
    } finally {
      vi.restoreAllMocks();
      await sink.stop();
    }
  });

  it("auditTrail pages through a thread's checkpoints and writes in order, and an agent's events", async () => {
    const client = connect();
    const pool = newPool();
    const schema = testSchema(pool);
    const keyPrefix = testPrefix("au");
    const saver = new RedisSaver({ client, keyPrefix, audit: { agentId: "planner" } });
    const store = new RedisStore({ client, keyPrefix, audit: true });
    const sink = startAuditSink({ client, postgres: pool, keyPrefix, schema, pollIntervalMs: 10 });
    try {
      let config = { configurable: { thread_id: "order-7", checkpoint_ns: "" } } as Parameters<RedisSaver["put"]>[0];
      for (let step = 0; step < 5; step++) {
        const id = `0000000${step}`;
        config = await saver.put(config, checkpoint(id), { source: "loop", step, parents: {} }, { status: id });
        await saver.putWrites(config, [["status", `s${step}`]], `task-${step}`);
      }
      await store.put(["orders"], "order-7", { status: "paid" }, { writer: "payments" });
      await sink.flush();

      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await auditTrail({ postgres: pool, schema, threadId: "order-7", limit: 3, cursor });
        seen.push(...page.events.map((e) => `${e.kind}:${e.checkpointId}`));
        cursor = page.cursor;
      } while (cursor);
      expect(seen).toEqual([0, 1, 2, 3, 4].flatMap((step) => [`checkpoint:0000000${step}`, `writes:0000000${step}`]));
      const agent = await auditTrail({ postgres: pool, schema, agentId: "payments" });
      expect(agent.events.map((e) => [e.kind, e.namespace, e.key, e.version])).toEqual([
        ["store.put", ["orders"], "order-7", 1],
      ]);
      const item = await auditTrail({ postgres: pool, schema, namespace: ["orders"], key: "order-7" });
      expect(item.events).toHaveLength(1);
      expect(item.events[0]?.detail.hash).toMatch(/^[0-9a-f]{64}$/);
      expect((await auditTrail({ postgres: pool, schema, lockKey: "none" })).events).toEqual([]);
      const later = await auditTrail({
        postgres: pool,
        schema,
        threadId: "order-7",
        from: new Date(Date.now() + 60_000),
      });
      expect(later.events).toEqual([]);
    } finally {
      await sink.stop();
    }
  });

  it("keeps the table append-only", async () => {
    const client = connect();
    const pool = newPool();
    const schema = testSchema(pool);
    const keyPrefix = testPrefix("au");
    const store = new RedisStore({ client, keyPrefix, audit: true });
    const sink = startAuditSink({ client, postgres: pool, keyPrefix, schema, pollIntervalMs: 10 });
    try {
      await store.put(["orders"], "o1", { v: 1 });
      await sink.flush();
      await expect(pool.query(`UPDATE "${schema}".audit_events SET kind = 'x'`)).rejects.toThrow(/append-only/);
      await expect(pool.query(`DELETE FROM "${schema}".audit_events`)).rejects.toThrow(/append-only/);
      expect(await rowsByKind(pool, schema)).toEqual({ "store.put": 1 });
    } finally {
      await sink.stop();
    }
  });
});

describe("audit options", () => {
  it("names a bad option and a bad cursor", async () => {
    const pool = newPool();
    await expect(auditTrail({ postgres: pool, threadId: "t", agentId: "a" })).rejects.toBeInstanceOf(
      InvalidOptionError,
    );
    await expect(auditTrail({ postgres: pool, namespace: ["a"] })).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(auditTrail({ postgres: pool, threadId: "t", cursor: "nonsense" })).rejects.toBeInstanceOf(AuditError);
    expect(() => startAuditSink({ client: {} as never, postgres: pool })).toThrow(InvalidOptionError);
    expect(() => new RedisStore({ client: {} as never, audit: "yes" as never })).toThrow(InvalidOptionError);
    expect(auditRegistryKey("p")).toBe("p|audit-streams");
  });
});

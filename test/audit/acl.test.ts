/** aclRules({ audit: true }) is enough for audited writes, guarded() and the sink: run them as such a user. */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { aclRules, guarded, RedisSaver, RedisStore, startAuditSink } from "../../src/index.js";
import { newRedis, redisUrl, testPrefix } from "../helpers/redis.js";
import { newPool, rowsByKind, testSchema } from "./helpers.js";

describe("audit under aclRules({ audit: true }) (standalone)", () => {
  it("writes, locks and drains with exactly the listed commands", async () => {
    const admin = newRedis();
    const keyPrefix = testPrefix("acl");
    const user = `audit-${randomBytes(4).toString("hex")}`;
    const password = randomBytes(12).toString("hex");
    await admin.call("ACL", "SETUSER", user, "on", `>${password}`, ...aclRules({ keyPrefix, audit: true }));
    const url = new URL(redisUrl());
    const client = new Redis({
      host: url.hostname,
      port: Number(url.port),
      username: user,
      password,
      maxRetriesPerRequest: 1,
    });
    const pool = newPool();
    const schema = testSchema(pool);
    const sink = startAuditSink({ client, postgres: pool, keyPrefix, schema, pollIntervalMs: 10 });
    try {
      const store = new RedisStore({ client, keyPrefix, audit: true });
      const saver = new RedisSaver({ client, keyPrefix, audit: true });
      await guarded(async () => store.put(["orders"], "o1", { v: 1 }), { client, keyPrefix, key: "o1", audit: true })(
        {},
        {},
      );
      await saver.put(
        { configurable: { thread_id: "t1", checkpoint_ns: "" } },
        { v: 4, id: "c1", ts: "", channel_values: {}, channel_versions: {}, versions_seen: {} },
        { source: "input", step: -1, parents: {} },
        {},
      );
      await sink.flush();
      expect(await rowsByKind(pool, schema)).toEqual({
        "lock.acquired": 1,
        "store.put": 1,
        "lock.released": 1,
        checkpoint: 1,
      });
      expect(sink.stats().lastError).toBeUndefined();
    } finally {
      await sink.stop();
      client.disconnect();
      await admin.call("ACL", "DELUSER", user);
    }
  });
});

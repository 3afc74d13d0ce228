// Every write and lock decision of two agents lands in PostgreSQL: an audited store, a guarded node, and the sink
// that drains the outbox streams; then the audit trail of one order is read back, in order.
// Run: REDIS_URL=redis://127.0.0.1:6379 POSTGRES_URL=postgres://user@127.0.0.1:5432/db npx tsx examples/audit-trail.ts
import { auditTrail, clientFromUrl, currentFence, guarded, RedisStore, startAuditSink } from "langgraph-redis";
import pg from "pg";

const client = clientFromUrl(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const postgres = new pg.Pool({ connectionString: process.env.POSTGRES_URL ?? "postgres://127.0.0.1:5432/postgres" });
const keyPrefix = `example-${Date.now()}`;
const schema = `audit_example_${Date.now()}`;

const fraud = new RedisStore({ client, keyPrefix, agentId: "fraud-agent", audit: true });
const payment = new RedisStore({ client, keyPrefix, agentId: "payment-agent", audit: true });
const sink = startAuditSink({ client, postgres, keyPrefix, schema });

try {
  await payment.put(["orders"], "42", { amount: 12_000, status: "pending" });
  await fraud.update(["orders"], "42", (order) => ({ ...order, status: "flagged" }));

  // The payment agent charges under a lock on the order; its write carries the lock's fencing token.
  const charge = guarded(
    async (_state: unknown, config) => {
      await payment.put(
        ["orders"],
        "42",
        { amount: 12_000, status: "held" },
        { fence: currentFence(config, "order:42") },
      );
      return {};
    },
    { client, keyPrefix, key: "order:42", audit: { agentId: "payment-agent" } },
  );
  await charge({}, { configurable: { thread_id: "order-42" } });

  await sink.flush(); // every event written so far is in PostgreSQL
  const item = await auditTrail({ postgres, schema, namespace: ["orders"], key: "42" });
  const locks = await auditTrail({ postgres, schema, threadId: "order-42" });
  for (const event of [...item.events, ...locks.events].sort((a, b) => a.at.getTime() - b.at.getTime())) {
    const version = event.version ? ` v${event.version}` : "";
    const fence = event.fenceToken ? ` (${event.lockKey}, fencing token ${event.fenceToken})` : "";
    console.log(`${event.at.toISOString()} ${event.agentId ?? "-"} ${event.kind}${version}${fence}`);
  }
} finally {
  await sink.stop();
  await postgres.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await postgres.end();
  await client.quit();
}

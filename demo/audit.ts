/**
 * `--audit`: the layer's processes write audit events (RedisStore, RedisSaver, guarded(), run leases with `audit`),
 * a sink in the orchestrator drains them into PostgreSQL while the scenario runs, and at the end the audit trail of
 * one order is read back from PostgreSQL with auditTrail(): which agent did what, in order, with the lock and fence
 * decisions.
 */
import { type AuditEvent, type AuditSink, auditTrail, type RedisClient, startAuditSink } from "langgraph-redis";
import pg from "pg";
import { ORDERS } from "./layer-state.js";
import { orderLockKey } from "./runtime.js";

export interface DemoAudit {
  /** The PostgreSQL schema the sink writes (named after the run's key prefix). */
  readonly schema: string;
  /** Waits until every event is in PostgreSQL, then prints the trail of the order with the most events. */
  report(say: (line: string) => void): Promise<void>;
  /** Stops the sink and, unless `keep`, drops the run's schema. */
  close(keep: boolean): Promise<void>;
}

export function startDemoAudit(client: RedisClient, keyPrefix: string, postgresUrl: string): DemoAudit {
  const postgres = new pg.Pool({ connectionString: postgresUrl, max: 4 });
  postgres.on("error", () => undefined);
  const schema = keyPrefix.replace(/[^a-z0-9]/g, "_");
  const sink: AuditSink = startAuditSink({ client, postgres, keyPrefix, schema, pollIntervalMs: 20 });
  return {
    schema,
    async report(say) {
      await sink.flush(60_000);
      const stats = sink.stats();
      say(
        `audit: ${stats.delivered} events in PostgreSQL (schema ${schema}), delivery lag p50 ${stats.lagP50Ms} ms, ` +
          `p99 ${stats.lagP99Ms} ms`,
      );
      const busiest = await postgres.query<{ item_key: string }>(
        `SELECT item_key FROM "${schema}".audit_events WHERE namespace = $1::text[]
         GROUP BY item_key ORDER BY count(*) DESC, item_key LIMIT 1`,
        [ORDERS],
      );
      const orderId = busiest.rows[0]?.item_key;
      if (!orderId) {
        say("audit: no order events were recorded");
        return;
      }
      const events = new Map<string, AuditEvent>();
      for (const query of [{ namespace: ORDERS, key: orderId }, { lockKey: orderLockKey(orderId) }]) {
        let cursor: string | undefined;
        do {
          const page = await auditTrail({ postgres, schema, ...query, limit: 500, cursor });
          for (const event of page.events) events.set(event.id, event);
          cursor = page.cursor;
        } while (cursor);
      }
      const story = [...events.values()].sort((a, b) => a.at.getTime() - b.at.getTime() || a.id.localeCompare(b.id));
      const start = story[0]?.at.getTime() ?? 0;
      say(`audit trail of order ${orderId}, read from PostgreSQL (${story.length} events):`);
      for (const event of story) {
        const offset = `+${((event.at.getTime() - start) / 1000).toFixed(3)}s`.padStart(9);
        say(`  ${offset}  ${(event.agentId ?? "-").padEnd(10)} ${event.kind.padEnd(14)} ${describe(event)}`);
      }
    },
    async close(keep) {
      await sink.stop();
      if (!keep) await postgres.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await postgres.end();
    },
  };
}

function describe(event: AuditEvent): string {
  const parts: string[] = [];
  if (event.version !== undefined) parts.push(`version ${event.version}`);
  if (event.lockKey !== undefined) parts.push(`lock ${event.lockKey}`);
  if (event.fenceToken !== undefined) parts.push(`fencing token ${event.fenceToken}`);
  if (event.kind === "store.fenced") parts.push(`refused: token ${event.detail.newest} was issued since`);
  if (event.kind === "lock.lost") parts.push(`after ${event.detail.heldMs} ms`);
  return parts.join(", ");
}

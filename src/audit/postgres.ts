/**
 * The PostgreSQL side of the audit trail: the narrow client interface the sink and the queries use (a `pg.Pool`
 * fits it), opening a pool from a connection string (node-postgres is an optional peer dependency, loaded only
 * then), and the migration that creates the tables.
 */
import { AuditError } from "../errors.js";

/** What the audit code needs from PostgreSQL: a `pg.Pool` (or `pg.Client`) satisfies it. */
export interface AuditPostgres {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
}

/** A pool the audit code opened itself from a connection string, and so closes. */
export interface OwnedPostgres extends AuditPostgres {
  end(): Promise<void>;
}

export async function openPostgres(connectionString: string): Promise<OwnedPostgres> {
  let pg: typeof import("pg");
  try {
    pg = await import("pg");
  } catch (error) {
    throw new AuditError("The audit trail needs node-postgres: npm install pg", { cause: error });
  }
  const Pool = pg.default?.Pool ?? pg.Pool;
  const pool = new Pool({ connectionString, max: 4, connectionTimeoutMillis: 5000 });
  // An idle client that loses its server (a restart) emits "error" on the pool; the next query reconnects.
  pool.on("error", () => undefined);
  return pool as unknown as OwnedPostgres;
}

/** A PostgreSQL identifier for the schema option: letters, digits and underscores, quoted. */
export function schemaName(schema: string): string {
  return `"${schema}"`;
}

/**
 * Migrations, applied in order, each once (recorded in audit_migrations), in one transaction under an advisory
 * lock, so sinks starting together do not race. The events table is append-only: a trigger refuses UPDATE and
 * DELETE unless the session sets langgraph_redis.audit_retention = 'on' (what pruneAuditTrail does).
 */
function migrations(s: string): string[] {
  return [
    `CREATE TABLE ${s}.audit_events (
      event_id text PRIMARY KEY,
      at_ms bigint NOT NULL,
      at timestamptz NOT NULL,
      entry_ms bigint NOT NULL,
      entry_seq bigint NOT NULL,
      kind text NOT NULL,
      key_prefix text NOT NULL,
      thread_id text,
      checkpoint_ns text,
      checkpoint_id text,
      namespace text[],
      item_key text,
      agent_id text,
      run_id text,
      lock_key text,
      fence_token bigint,
      version bigint,
      detail jsonb NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX audit_events_by_thread ON ${s}.audit_events (thread_id, at_ms, entry_ms, entry_seq, event_id)
      WHERE thread_id IS NOT NULL;
    CREATE INDEX audit_events_by_item ON ${s}.audit_events (item_key, namespace, at_ms, entry_ms, entry_seq, event_id)
      WHERE item_key IS NOT NULL;
    CREATE INDEX audit_events_by_agent ON ${s}.audit_events (agent_id, at_ms, entry_ms, entry_seq, event_id)
      WHERE agent_id IS NOT NULL;
    CREATE INDEX audit_events_by_lock ON ${s}.audit_events (lock_key, at_ms, entry_ms, entry_seq, event_id)
      WHERE lock_key IS NOT NULL;
    CREATE INDEX audit_events_by_time ON ${s}.audit_events (at_ms, entry_ms, entry_seq, event_id);
    CREATE FUNCTION ${s}.audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' AND current_setting('langgraph_redis.audit_retention', true) = 'on' THEN
        RETURN OLD;
      END IF;
      RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP;
    END $$;
    CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON ${s}.audit_events
      FOR EACH ROW EXECUTE FUNCTION ${s}.audit_events_append_only();`,
  ];
}

/** Creates (or brings up to date) the audit tables in `schema`. Idempotent; the sink runs it on start. */
export async function setupAuditTables(postgres: AuditPostgres, schema: string): Promise<void> {
  const s = schemaName(schema);
  const steps = migrations(s);
  try {
    // One simple-protocol query = one implicit transaction: all of a migration or none of it.
    await postgres.query(
      `SELECT pg_advisory_xact_lock(hashtext('langgraph_redis.audit_migrations'));
       CREATE SCHEMA IF NOT EXISTS ${s};
       CREATE TABLE IF NOT EXISTS ${s}.audit_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());`,
    );
    for (let version = 1; version <= steps.length; version++) {
      await postgres.query(
        `SELECT pg_advisory_xact_lock(hashtext('langgraph_redis.audit_migrations'));
         DO $migrate$ BEGIN
           IF NOT EXISTS (SELECT 1 FROM ${s}.audit_migrations WHERE version = ${version}) THEN
             EXECUTE ${dollarQuote(steps[version - 1] as string)};
             INSERT INTO ${s}.audit_migrations (version) VALUES (${version});
           END IF;
         END $migrate$;`,
      );
    }
  } catch (error) {
    throw new AuditError(`Could not create the audit tables in schema ${s}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function dollarQuote(sql: string): string {
  return `$sql$${sql}$sql$`;
}

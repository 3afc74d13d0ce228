/** Audit test helpers: a pool on the suite's PostgreSQL, a fresh schema per test, closed after the file. */
import pg from "pg";
import { afterAll, inject } from "vitest";
import { testPrefix } from "../helpers/redis.js";

const pools: pg.Pool[] = [];
const schemas: { pool: pg.Pool; schema: string }[] = [];

afterAll(async () => {
  for (const { pool, schema } of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
  await Promise.all(pools.map((pool) => pool.end()));
  pools.length = 0;
  schemas.length = 0;
});

export function postgresUrl(): string {
  return inject("postgresUrl");
}

export function newPool(url = postgresUrl()): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on("error", () => undefined);
  pools.push(pool);
  return pool;
}

/** A schema name no other test uses (dropped after the file). */
export function testSchema(pool: pg.Pool): string {
  const schema = testPrefix("audit_").toLowerCase();
  schemas.push({ pool, schema });
  return schema;
}

/** How many rows each event id has (to find duplicates), by kind. */
export async function rowsByKind(pool: pg.Pool, schema: string): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ kind: string; n: string }>(
    `SELECT kind, count(*) AS n FROM "${schema}".audit_events GROUP BY kind`,
  );
  return Object.fromEntries(rows.map((row) => [row.kind, Number(row.n)]));
}

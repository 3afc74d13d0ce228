/**
 * Starts the throwaway PostgreSQL server the audit tests write to (fresh data directory, free loopback port) and
 * stops it by pid when the run ends, fails or is interrupted. POSTGRES_URL points the suite at a server you
 * already run instead (the tests create and drop their own schemas in it).
 */
import pg from "pg";
import type { TestProject } from "vitest/node";
import { type LocalPostgres, startPostgres } from "../../scripts/local-postgres.js";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let server: LocalPostgres | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    void (server?.stop() ?? Promise.resolve()).finally(() => process.kill(process.pid, signal));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let url = process.env.POSTGRES_URL;
  if (url) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
      await client.query("SELECT 1");
    } catch (error) {
      throw new Error(`POSTGRES_URL=${url} is not reachable: ${(error as Error).message}`);
    } finally {
      await client.end().catch(() => undefined);
    }
  } else {
    server = await startPostgres();
    url = server.url;
  }
  project.provide("postgresUrl", url);
  return async () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await server?.stop();
  };
}

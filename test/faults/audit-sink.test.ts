/**
 * The audit sink under faults, with real processes (run by `npm run test:faults`): writers keep making audited
 * store writes while sink processes are killed with SIGKILL in the middle of a batch (by pid) and replaced, and the
 * PostgreSQL server is killed and restarted. At the end every acknowledged write has exactly one row (none lost,
 * none twice) and no write that failed has one. Standalone and Redis Cluster; servers are started here, stopped
 * by pid.
 */
import { randomInt } from "node:crypto";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Cluster, Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalPostgres, startPostgres } from "../../scripts/local-postgres.js";
import { type LocalCluster, type LocalRedis, startCluster, startRedis } from "../../scripts/local-redis.js";
import type { RedisClient } from "../../src/client.js";
import { RedisStore, VersionConflictError } from "../../src/index.js";
import { auditRegistryKey } from "../../src/keys.js";
import { bundleProgram } from "../helpers/bundle-program.js";
import { recordCounts } from "../helpers/counts.js";
import { parseNodes } from "../helpers/nodes.js";
import { type Child, startProgramChild, stopAll } from "./recovery/processes.js";

const WRITES = Number(process.env.AUDIT_FAULT_WRITES ?? 6000);
const WRITERS = 8;
const SINK_KILLS = 3;
const LIMIT_MS = 150_000;

let program: { file: string; cleanup: () => void };
let postgres: LocalPostgres;
let standalone: LocalRedis;
let cluster: LocalCluster;

beforeAll(async () => {
  program = await bundleProgram(join("test", "faults", "audit", "sink-program.ts"), { external: ["pg-native"] });
  [postgres, standalone, cluster] = await Promise.all([startPostgres(), startRedis(), startCluster(3)]);
});

afterAll(async () => {
  await stopAll();
  await Promise.all([postgres?.stop(), standalone?.stop(), cluster?.stop()]);
  program?.cleanup();
});

function clusterClient(nodes: string): Cluster {
  return new Cluster(parseNodes(nodes));
}

/**
 * Waits until the sink has printed a line passing `test`, counting every line since it started: a line printed
 * before the wait began counts (a sink started while PostgreSQL is down prints "R" as soon as the server is back,
 * which can be before the restart call returns).
 */
async function waitForLine(child: Child, test: (line: string) => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  for (;;) {
    if (child.lines.slice(seen).some(test)) return;
    seen = child.lines.length;
    if (!child.alive) throw new Error(`sink exited early: ${(await child.exited).stderr}`);
    if (Date.now() > deadline) throw new Error("no expected line from the sink in time");
    await sleep(5);
  }
}

describe.each([
  { name: "standalone", target: (): Record<string, string> => ({ REDIS_URL: standalone.url }) },
  { name: "cluster", target: (): Record<string, string> => ({ REDIS_CLUSTER_NODES: cluster.nodes }) },
])("audit sink under faults ($name)", ({ name, target }) => {
  it("kill -9 of sinks mid-batch and a PostgreSQL restart under load: 0 lost, 0 duplicated", async (context) => {
    const startedAt = Date.now();
    const env = target();
    const client: RedisClient = env.REDIS_URL ? new Redis(env.REDIS_URL) : clusterClient(env.REDIS_CLUSTER_NODES ?? "");
    const pool = new pg.Pool({ connectionString: postgres.url, max: 2 });
    pool.on("error", () => undefined);
    const keyPrefix = `af${randomInt(1e9)}`;
    const schema = `audit_fault_${name}`;
    const store = new RedisStore({ client, keyPrefix, audit: { agentId: "writer", includeValues: true } });
    const acknowledged = new Set<number>();
    let refused = 0;
    let failed = 0;
    const sinks: Child[] = [];
    const startSink = () => {
      const child = startProgramChild(program.file, []);
      sinks.push(child);
      return child;
    };
    // startChild passes the parent's environment: set what the program reads for the children started below.
    Object.assign(process.env, env, { POSTGRES_URL: postgres.url, AUDIT_PREFIX: keyPrefix, AUDIT_SCHEMA: schema });
    try {
      let written = 0;
      let killsDone = false;
      // Writers keep going until both WRITES are made and every kill happened, so each sink has work when killed.
      // A failed write ends them: a client that rejects at once (Redis gone) would otherwise spin on microtasks
      // and starve every timer, so the test would hang instead of failing.
      let firstFailure: unknown;
      const writers = Array.from({ length: WRITERS }, async (_, w) => {
        while ((written < WRITES || !killsDone) && failed === 0) {
          const i = written++;
          const namespace = ["orders", `shard${i % 64}`];
          const key = `order-${i % 500}`;
          try {
            // Every tenth write names a version the item never has: refused, so it must leave no row.
            if (i % 10 === 9) await store.putIfVersion(namespace, key, { i, w }, 1_000_000);
            else await store.put(namespace, key, { i, w });
            acknowledged.add(i);
          } catch (error) {
            if (error instanceof VersionConflictError) refused++;
            else if (failed++ === 0) firstFailure = error;
          }
        }
      });

      process.env.AUDIT_CONSUMER = "sink-1";
      let sink = startSink();
      await waitForLine(sink, (line) => line === "R", 60_000);
      for (let kill = 1; kill <= SINK_KILLS && failed === 0; kill++) {
        await waitForLine(sink, (line) => line.startsWith("B "), 60_000);
        await sleep(randomInt(0, 15));
        sink.kill("SIGKILL"); // by pid, in the middle of whatever batch it is on
        await sink.exited;
        if (kill === 2) {
          await postgres.kill("SIGKILL");
          process.env.AUDIT_CONSUMER = `sink-${kill + 1}`;
          sink = startSink(); // starts while PostgreSQL is down: it must wait, not fail
          await sleep(1500);
          await postgres.start();
        } else {
          process.env.AUDIT_CONSUMER = `sink-${kill + 1}`;
          sink = startSink();
        }
        await waitForLine(sink, (line) => line === "R", 60_000);
      }
      killsDone = true;
      await Promise.all(writers);
      expect(failed, `first failed write: ${String(firstFailure)}`).toBe(0);

      // Drain: the last sink (and the reclaim of what the killed ones held) empties every outbox stream.
      const deadline = Date.now() + LIMIT_MS;
      for (;;) {
        const streams = await client.smembers(auditRegistryKey(keyPrefix));
        const lengths = await Promise.all(streams.map((stream) => client.xlen(stream)));
        if (lengths.every((n) => n === 0)) break;
        if (Date.now() > deadline) throw new Error(`outbox not drained: ${lengths.reduce((a, b) => a + b, 0)} left`);
        await sleep(100);
      }

      // Each write put a distinct value ({ i }), recorded in its event: one row per i, and only acknowledged ones.
      const { rows } = await pool.query<{ i: number; n: string }>(
        `SELECT ((detail->>'value')::jsonb->>'i')::int AS i, count(*) AS n FROM "${schema}".audit_events
         WHERE kind = 'store.put' GROUP BY 1`,
      );
      const inPostgres = new Set(rows.map((row) => row.i));
      const duplicated = rows.filter((row) => Number(row.n) > 1).length;
      const lost = [...acknowledged].filter((id) => !inPostgres.has(id)).length;
      const extra = [...inPostgres].filter((id) => !acknowledged.has(id)).length;
      const total = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".audit_events`);
      recordCounts(context, {
        faultsInjected: SINK_KILLS + 1,
        acknowledgedWritesChecked: acknowledged.size,
        failures: lost + duplicated + extra,
      });
      // What the sinks report: events taken over from killed sinks, and deliveries that found their row there.
      const reported = sinks.map(
        (sink) =>
          sink.lines
            .filter((line) => line.startsWith("B "))
            .at(-1)
            ?.split(" ") ?? [],
      );
      const reclaimed = reported.reduce((sum, parts) => sum + Number(parts[3] ?? 0), 0);
      const redelivered = reported.reduce((sum, parts) => sum + Number(parts[2] ?? 0), 0);
      console.log(
        `audit sink faults (${name}): ${written} writes, ${acknowledged.size} acknowledged, ${refused} refused, ` +
          `${total.rows[0]?.n} rows, ${SINK_KILLS} sink kills, 1 PostgreSQL kill+restart, ${reclaimed} reclaimed, ` +
          `${redelivered} delivered twice (one row kept), lost ${lost}, duplicated ${duplicated}, ` +
          `${Math.round((Date.now() - startedAt) / 1000)} s`,
      );
      expect(refused).toBe(Math.floor(written / 10));
      expect({ lost, duplicated, extra }).toEqual({ lost: 0, duplicated: 0, extra: 0 });
      expect(Number(total.rows[0]?.n)).toBe(acknowledged.size);
    } finally {
      for (const sink of sinks) sink.kill("SIGKILL");
      await stopAll();
      await pool.end();
      client.disconnect();
    }
  });
});

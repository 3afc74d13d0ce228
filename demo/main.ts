/**
 * The demo: a fraud agent and a payment agent, each in its own OS processes, work through a stream of orders.
 * Mid-way one payment worker is killed with SIGKILL. The same scenario runs twice: with langgraph-redis
 * (RedisSaver, RedisStore, guarded() nodes, crash recovery) and without it (each process on its own MemorySaver,
 * no locks, JSON documents read and written back with GET/SET). The table at the end comes from what the
 * processes recorded in Redis. Exit code 0 only if the run with the layer had no conflicts at all.
 *
 *   npm run demo                      # a throwaway local redis-server, or the one in REDIS_URL
 *   npm run demo -- --no-guard        # the layer with guarded() switched off: conflicts, exit code 1
 *   npm run demo -- --audit           # also: every write and lock decision in PostgreSQL, one order's trail
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type LocalPostgres, startPostgres } from "../scripts/local-postgres.js";
import { demoOptions } from "./options.js";
import { plural, problems, renderTable, type SetupResult } from "./report.js";
import { runScenario, setupLabel } from "./scenario.js";

const options = demoOptions(process.argv.slice(2), process.env);
if (options.outage) {
  // A demo of its own: agents riding out a Redis outage on their offline journals (demo/outage.ts).
  const { runOutageDemo } = await import("./outage.js");
  process.exit(await runOutageDemo({ quick: options.quick, ownsRedis: process.env.DEMO_OWN_REDIS === "1" }));
}
const redisUrl = process.env.REDIS_URL;
if (!redisUrl) {
  console.error("REDIS_URL is not set: run the demo with `npm run demo` (it starts a throwaway redis-server)");
  process.exit(2);
}

const say = (line: string) => console.log(line);
// --audit: PostgreSQL from POSTGRES_URL, else a throwaway local server (installed with apt-get where possible).
const postgres = options.audit && !process.env.POSTGRES_URL ? await startLocalPostgres() : undefined;
const postgresUrl = options.audit ? (process.env.POSTGRES_URL ?? postgres?.url) : undefined;
const exit = async (code: number): Promise<never> => {
  await postgres?.stop();
  process.exit(code);
};
const started = Date.now();
say(
  `langgraph-redis demo: ${options.orders} orders at ${options.ratePerSec}/s, ${options.fraudWorkers} fraud and ` +
    `${options.paymentWorkers} payment agent processes (${options.concurrency} runs each at once), ` +
    `one payment agent killed at ${Math.round(options.killAt * 100)}% of the stream`,
);

// Ctrl-C stops the scenario; its processes are killed and its keys deleted before the demo exits.
const interrupt = new AbortController();
process.once("SIGINT", () => interrupt.abort(new Error("interrupted")));
process.once("SIGTERM", () => interrupt.abort(new Error("terminated")));

const results: SetupResult[] = [];
try {
  for (const setup of options.setups) {
    say(`\n== ${setupLabel(setup, options.guard)} ==`);
    results.push(
      await runScenario(setup, options, redisUrl, (line) => say(`  ${line}`), interrupt.signal, postgresUrl),
    );
  }
} catch (error) {
  console.error(`demo stopped: ${(error as Error).message}`);
  await exit(interrupt.signal.aborted ? 130 : 1);
}

say(`\n${renderTable(results)}\n`);
say(
  "double-processed             orders two runs worked on at the same moment, or that the card provider charged twice",
);
say("approvals of flagged orders  orders charged after the fraud agent had stored a flag on them (server clock)");
say("lost writes                  writes that returned success but are missing from the documents at the end");
say("crashed runs resumed         runs of the killed process resumed from their last checkpoint and finished");
for (const r of results) {
  say(`\n${r.label} (${(r.elapsedMs / 1000).toFixed(1)} s):`);
  say(
    `  ${plural(r.overlappingOrders, "order")} worked on by two runs at once, ${r.doubleCharged} charged twice, ` +
      `${r.lostWrites} of ${r.writesMade} writes lost`,
  );
  say(
    `  ${plural(r.duplicatesSkipped, "duplicate delivery", "duplicate deliveries")} found the order already ` +
      `charged; ${plural(r.flaggedAfterCharge, "order")} flagged after they were charged (in order, not a ` +
      "conflict: refund review)",
  );
  if (r.restarted > 0) {
    say(`  ${plural(r.restarted, "crashed run")} restarted from scratch (their checkpoints died with the process)`);
  }
}

const failures = results.flatMap((r) => problems(r).map((p) => `${r.label}: ${p}`));
const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (failures.length > 0) {
  say(`\nFAIL (${seconds} s):\n${failures.map((f) => `  - ${f}`).join("\n")}`);
  if (!options.guard) say("guarded() was switched off (--no-guard): these are the conflicts its locks prevent.");
  await exit(1);
}
const clean = results.some((r) => r.mustBeClean);
say(
  `\n${clean ? "OK: with langgraph-redis no conflicts, no lost writes, every crashed run resumed" : "done"} (${seconds} s)`,
);
await exit(0);

async function startLocalPostgres(): Promise<LocalPostgres> {
  const ensure = fileURLToPath(new URL("../scripts/ensure-postgres.mjs", import.meta.url));
  execFileSync(process.execPath, [ensure], { stdio: "inherit" });
  const server = await startPostgres();
  say(`started a throwaway PostgreSQL server for the audit trail (port ${server.port}, pid ${server.pid})`);
  return server;
}

/**
 * The demo: a fraud agent and a payment agent, each in its own OS processes, work through a stream of orders.
 * Mid-way one payment worker is killed with SIGKILL. The same scenario runs twice: with langgraph-redis
 * (RedisSaver, RedisStore, guarded() nodes, crash recovery) and without it (each process on its own MemorySaver,
 * no locks, JSON documents read and written back with GET/SET). The table at the end comes from what the
 * processes recorded in Redis. Exit code 0 only if the run with the layer had no conflicts at all.
 *
 *   npm run demo                      # a throwaway local redis-server, or the one in REDIS_URL
 *   npm run demo -- --no-guard        # the layer with guarded() switched off: conflicts, exit code 1
 */
import { demoOptions } from "./options.js";
import { problems, renderTable, type SetupResult } from "./report.js";
import { runScenario, setupLabel } from "./scenario.js";

const options = demoOptions(process.argv.slice(2), process.env);
const redisUrl = process.env.REDIS_URL;
if (!redisUrl) {
  console.error("REDIS_URL is not set: run the demo with `npm run demo` (it starts a throwaway redis-server)");
  process.exit(2);
}

const say = (line: string) => console.log(line);
const started = Date.now();
say(
  `langgraph-redis demo: ${options.orders} orders at ${options.ratePerSec}/s, ${options.fraudWorkers} fraud and ` +
    `${options.paymentWorkers} payment agent processes (${options.concurrency} runs each at once), ` +
    `one payment agent killed at ${Math.round(options.killAt * 100)}% of the stream`,
);

const results: SetupResult[] = [];
for (const setup of options.setups) {
  say(`\n== ${setupLabel(setup, options.guard)} ==`);
  results.push(await runScenario(setup, options, redisUrl, (line) => say(`  ${line}`)));
}

say(`\n${renderTable(results)}\n`);
say("double-processed: orders the card provider charged more than once (its ledger in Redis)");
say("approvals of flagged orders: orders charged after the fraud agent had stored a flag on them (server clock)");
say("lost writes: writes that returned success but are missing from the shared documents at the end");
say("crashed runs resumed: runs of the killed worker that the recoverer resumed from a checkpoint and finished");
for (const r of results) {
  const details = [
    `${r.writesMade} writes`,
    `${r.overlappingOrders} orders worked on by two agents at once`,
    `${r.duplicatesSkipped} duplicate deliveries found already charged`,
    `${r.flaggedAfterCharge} flagged only after their charge (sent to refund review)`,
  ];
  if (r.restarted > 0) details.push(`${r.restarted} crashed runs restarted from scratch`);
  say(`${r.label}: ${details.join(", ")}; ${(r.elapsedMs / 1000).toFixed(1)} s`);
}

const failures = results.flatMap((r) => problems(r).map((p) => `${r.label}: ${p}`));
const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (failures.length > 0) {
  say(`\nFAIL (${seconds} s):\n${failures.map((f) => `  - ${f}`).join("\n")}`);
  process.exit(1);
}
const clean = results.some((r) => r.mustBeClean);
say(
  `\n${clean ? "OK: with langgraph-redis no conflicts, no lost writes, every crashed run resumed" : "done"} (${seconds} s)`,
);
process.exit(0);

/**
 * With --keep: draws the run as the inspector's timeline page (the same `langgraph-redis view` users run) for a few
 * runs the killed process left behind and the recoverer resumed, plus one order document's write history, and
 * returns the page's file and the command that redraws it while the keys are still in Redis. The processes audit
 * with --keep, so the page also shows the order locks' holds and waits and the runs' crash and resume marks (read
 * from the outbox streams, or from PostgreSQL where --audit's sink moved them).
 */
import { join } from "node:path";
import { main as inspect } from "../src/inspector/cli.js";
import type { connect } from "./connect.js";
import type { DemoKeys } from "./keys.js";
import { ORDERS } from "./layer-state.js";

export async function writeTimeline(
  client: ReturnType<typeof connect>,
  keys: DemoKeys,
  redisUrl: string,
  prefix: string,
  /** Thread id -> the order its run worked on. */
  orderOf: ReadonlyMap<string, string>,
  /** --audit: the sink moved the audit events to PostgreSQL, so the page reads the lock and crash history there. */
  history?: { readonly postgresUrl: string; readonly schema: string },
): Promise<{ file?: string; command: string; error?: string }> {
  const takeovers = await client.lrange(keys.record("takeover"), 0, -1);
  const resumed = takeovers
    .map((entry) => JSON.parse(entry.slice(entry.indexOf(" ") + 1)) as { thread?: string; how?: string })
    .filter((event) => event.how === "resumed" && typeof event.thread === "string")
    .map((event) => event.thread as string);
  const threads = [...new Set(resumed)].slice(0, 4);
  const order = threads.map((thread) => orderOf.get(thread)).find((id) => id !== undefined);
  const items = order === undefined ? [] : [`${ORDERS.join(".")}/${order}`];
  const file = join(process.cwd(), `langgraph-redis-demo-${prefix}.html`);
  const args = ["--prefix", prefix, "view", ...threads, ...items.flatMap((item) => ["--item", item])];
  const fromPostgres = history ? ["--schema", history.schema] : [];
  const command =
    `REDIS_URL=<url> npx langgraph-redis ${[...args, ...fromPostgres].join(" ")}` +
    `${history ? " --postgres <postgres-url>" : ""} --serve`;
  let error = "";
  const postgres = history ? ["--postgres", history.postgresUrl, ...fromPostgres] : [];
  const code = await inspect(["--url", redisUrl, "--quiet", ...args, ...postgres, "--out", file], {
    out: () => {},
    err: (text) => (error += text),
    env: {},
  });
  return code === 0 ? { file, command } : { command, error: error.trim() };
}

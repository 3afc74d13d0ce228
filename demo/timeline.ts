/**
 * With --keep: draws the run as the inspector's timeline page (the same `langgraph-redis view` users run) for a few
 * runs the killed process left behind and the recoverer resumed, plus one order document's write history, and
 * returns the page's file and the command that redraws it while the keys are still in Redis.
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
  const command = `REDIS_URL=<url> npx langgraph-redis ${args.join(" ")} --serve`;
  let error = "";
  const code = await inspect(["--url", redisUrl, "--quiet", ...args, "--out", file], {
    out: () => {},
    err: (text) => (error += text),
    env: {},
  });
  return code === 0 ? { file, command } : { command, error: error.trim() };
}

/**
 * A process that holds one guarded lock, for the kill and pause tests.
 *
 * Its node prints `ACQUIRED <token>`, then works for <holdMs> without looking at its abort signal (like a tool
 * that cannot be interrupted), then prints `NODE-DONE`. The process then prints `RESULT ok` or
 * `RESULT <error name>` for what the guarded node returned or threw, and exits 0.
 *
 * Usage: tsx holder.ts <url> <prefix> <lockName> <lockTimeoutMs> <holdMs>
 */
import { setTimeout as sleep } from "node:timers/promises";
import { clientFromUrl, currentFence, guarded } from "../../../src/index.js";

const [url, prefix, lockName, lockTimeoutArg, holdArg] = process.argv.slice(2);
if (!url || !prefix || !lockName || !lockTimeoutArg || !holdArg) {
  throw new Error("usage: holder.ts <url> <prefix> <lockName> <lockTimeoutMs> <holdMs>");
}
const client = clientFromUrl(url, { maxRetriesPerRequest: 1 });
const say = (line: string) => process.stdout.write(`${line}\n`);

const node = guarded(
  async (_state: Record<string, never>, config) => {
    const fence = currentFence(config, lockName);
    say(`ACQUIRED ${fence.token}`);
    await sleep(Number(holdArg));
    say("NODE-DONE");
    return {};
  },
  { client, keyPrefix: prefix, key: lockName, lockTimeoutMs: Number(lockTimeoutArg) },
);

try {
  await node({}, {});
  say("RESULT ok");
} catch (error) {
  say(`RESULT ${error instanceof Error ? error.name : String(error)}`);
}
await client.quit();

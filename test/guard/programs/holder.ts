/**
 * A process that holds one guarded lock, for the kill and pause tests.
 *
 * Its node prints `ACQUIRED <token>`, then works for <holdMs> without looking at its abort signal (like a tool
 * that cannot be interrupted), then writes `{ holder: <label> }` to RedisStore item ["orders", <lockName>] with
 * its fence and prints `WRITE ok` or `WRITE <error name>`. The process prints `RESULT ok` or
 * `RESULT <error name>` for what the guarded node returned or threw, waits for the node's body to finish, and
 * exits 0.
 *
 * Usage: tsx holder.ts <url> <prefix> <lockName> <lockTimeoutMs> <holdMs> <label>
 */
import { setTimeout as sleep } from "node:timers/promises";
import { clientFromUrl, currentFence, guarded, RedisStore } from "../../../src/index.js";

const [url, prefix, lockName, lockTimeoutArg, holdArg, label] = process.argv.slice(2);
if (!url || !prefix || !lockName || !lockTimeoutArg || !holdArg || !label) {
  throw new Error("usage: holder.ts <url> <prefix> <lockName> <lockTimeoutMs> <holdMs> <label>");
}
const client = clientFromUrl(url, { maxRetriesPerRequest: 1 });
const store = new RedisStore({ client, keyPrefix: prefix });
const say = (line: string) => process.stdout.write(`${line}\n`);
const errorName = (error: unknown) => (error instanceof Error ? error.name : String(error));

let bodyDone: Promise<void> = Promise.resolve();
const node = guarded(
  async (_state: Record<string, never>, config) => {
    const fence = currentFence(config, lockName);
    say(`ACQUIRED ${fence.token}`);
    const body = (async () => {
      await sleep(Number(holdArg));
      try {
        await store.put(["orders"], lockName, { holder: label }, { fence, writer: label });
        say("WRITE ok");
      } catch (error) {
        say(`WRITE ${errorName(error)}`);
      }
    })();
    bodyDone = body;
    await body;
    return {};
  },
  { client, keyPrefix: prefix, key: lockName, lockTimeoutMs: Number(lockTimeoutArg) },
);

try {
  await node({}, {});
  say("RESULT ok");
} catch (error) {
  say(`RESULT ${errorName(error)}`);
}
await bodyDone; // a node that lost its lock keeps running until it ends: let its write finish before quitting
await client.quit();

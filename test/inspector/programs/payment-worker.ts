/**
 * A payment agent process the timeline tests kill: it runs the audited order graph on one thread and, inside the
 * guarded payment node (the order's lock held), prints `HOLDING <pid>` and waits forever, so SIGKILL finds it holding
 * the lock and the run lease.
 *
 * Usage: tsx payment-worker.ts <redis url> <prefix> <threadId> <orderId> <agentId> <lockTimeoutMs> <leaseMs>
 */
import { clientFromUrl } from "../../../src/client.js";
import { orderGraph } from "../audited-graph.js";

const [url, keyPrefix, threadId, orderId, agentId, lockTimeoutMs, leaseMs] = process.argv.slice(2);
if (!url || !keyPrefix || !threadId || !orderId || !agentId || !lockTimeoutMs || !leaseMs) {
  throw new Error("usage: payment-worker.ts <url> <prefix> <threadId> <orderId> <agentId> <lockTimeoutMs> <leaseMs>");
}
const client = clientFromUrl(url, { maxRetriesPerRequest: 1 });
const graph = orderGraph({
  client,
  keyPrefix,
  agentId,
  lockTimeoutMs: Number(lockTimeoutMs),
  leaseMs: Number(leaseMs),
  onPayment: async () => {
    process.stdout.write(`HOLDING ${process.pid}\n`);
    await new Promise(() => setInterval(() => {}, 1000));
  },
});
await graph.invoke({ orderId }, { configurable: { thread_id: threadId } });

/**
 * The setup with the shared memory layer, wired through the package's public API:
 *  - RedisSaver checkpoints every step of every run (durability "sync": a step's checkpoint is stored before the
 *    next step starts), so another process can resume a run where a dead one left it;
 *  - RedisStore holds the shared documents (compare-and-set appends, version history, fenced writes);
 *  - guarded() wraps each agent's critical node in a lock on the order, with a fencing token;
 *  - withRunLease() gives every run a lease, so the recoverer's startRecoveryWorker() finds runs whose process died.
 */
import {
  currentFence,
  guarded,
  type LeasableGraph,
  type RedisClient,
  RedisSaver,
  RedisStore,
  withRunLease,
} from "langgraph-redis";
import { LayerState } from "./layer-state.js";
import type { ProcessConfig } from "./processes.js";
import { PaymentProvider } from "./provider.js";
import type { Recorder } from "./recording.js";
import { type AgentRuntime, orderLockKey, timePuts } from "./runtime.js";

/** How long a dead holder's lock blocks the order (refreshed every third of it while the holder lives). */
export const LOCK_TIMEOUT_MS = 2000;
/** How long after a process's last heartbeat its runs count as crashed. */
export const RUN_LEASE_MS = 3000;

export function layerRuntime(config: ProcessConfig, client: RedisClient, recorder: Recorder): AgentRuntime {
  const keyPrefix = config.prefix;
  // --audit: every write and lock decision of this process also lands in the audit outbox, under its worker id.
  const audit = config.audit ? { audit: { agentId: config.workerId } } : {};
  const store = new RedisStore({ client, keyPrefix, agentId: config.workerId, ...audit });
  const threadConfig = (threadId: string) => ({ configurable: { thread_id: threadId }, durability: "sync" as const });
  return {
    setup: "layer",
    worker: config.workerId,
    checkpointer: timePuts(new RedisSaver({ client, keyPrefix, ...audit }), recorder),
    state: new LayerState(store, config.workerId),
    recorder,
    provider: new PaymentProvider(client, recorder.keys),
    critical(node) {
      if (!config.guard) return node;
      return guarded(node, {
        client,
        keyPrefix,
        key: (state) => orderLockKey(state.event.order.orderId),
        lockTimeoutMs: LOCK_TIMEOUT_MS,
        acquireTimeoutMs: 30_000,
        events: { onAcquired: (event) => recorder.sample("lockWait", event.waitedMs) },
        ...audit,
      });
    },
    writeGuard(nodeConfig, orderId) {
      return config.guard ? { fence: currentFence(nodeConfig, orderLockKey(orderId)) } : {};
    },
    lease<G extends LeasableGraph>(graph: G): G {
      return withRunLease(graph, { client, keyPrefix, leaseMs: RUN_LEASE_MS, owner: config.workerId, ...audit });
    },
    async run(graph, input, threadId) {
      await graph.invoke(input, threadConfig(threadId));
    },
    async resume(graph, threadId) {
      await graph.invoke(null, threadConfig(threadId));
    },
    async close() {},
  };
}

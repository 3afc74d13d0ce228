/**
 * Recoverer process entry. Two jobs:
 *  - with the layer, the package's recovery worker (startRecoveryWorker) finds runs whose lease expired with work
 *    pending and resumes each from its last checkpoint in Redis: completed steps are not run again, and a charge
 *    that was in flight replays the same provider request (same task id, same idempotency key);
 *  - it watches the workers' heartbeats on the order stream; when a worker dies it claims the events that worker
 *    had taken and not acknowledged. With the layer, those whose run had started are left to the recovery worker,
 *    the rest are started. Without the layer the dead process's checkpoints died with it, so every such run can
 *    only start again from scratch.
 *
 *   node --import tsx demo/recoverer.ts '<ProcessConfig JSON>'
 */
import { setTimeout as sleep } from "node:timers/promises";
import { RunLeaseHeldError, startRecoveryWorker } from "langgraph-redis";
import { closeClient, connect } from "./connect.js";
import { createRuntime } from "./create-runtime.js";
import { fraudGraph } from "./fraud-agent.js";
import { DemoKeys } from "./keys.js";
import { ackEvent, agents, claimPending, type DeliveredEvent, groupConsumers, threadId } from "./orders.js";
import { paymentGraph } from "./payment-agent.js";
import { readProcessConfig } from "./processes.js";
import { type Agent, Recorder } from "./recording.js";

const POLL_MS = 250;

const config = readProcessConfig();
const keys = new DemoKeys(config.prefix);
const client = connect(config.redisUrl);
const recorder = new Recorder(client, keys, config.workerId);
const runtime = await createRuntime(config, client, recorder);
const graphs = { fraud: runtime.lease(fraudGraph(runtime)), payment: runtime.lease(paymentGraph(runtime)) };

// onResult is synchronous; the records it starts are awaited before the process exits.
const recording = new Set<Promise<unknown>>();
const track = (promise: Promise<unknown>) => {
  const settled = promise.catch(() => {}).finally(() => recording.delete(settled));
  recording.add(settled);
};

const recoveryWorkers =
  runtime.setup === "layer"
    ? agents.map((agent) =>
        startRecoveryWorker(graphs[agent], {
          intervalMs: POLL_MS,
          concurrency: config.concurrency,
          config: { durability: "sync" },
          onResult: (result) => {
            const thread = result.run.threadId;
            if (result.outcome === "resumed" && "checkpointId" in result.run) {
              const checkpointId = result.run.checkpointId;
              track(recorder.record("takeover", { thread, how: "resumed", worker: config.workerId, checkpointId }));
            } else if (result.outcome === "skipped" && process.env.DEMO_DEBUG === "1") {
              console.error(`[recoverer] skipped ${thread}: ${result.reason}`);
            } else if (result.outcome === "failed") {
              console.error(`[recoverer] resuming ${thread} failed: ${(result.error as Error).message}`);
            }
          },
          onError: (error) => console.error(`[recoverer] recovery pass failed: ${(error as Error).message}`),
        }),
      )
    : [];

await client.hset(keys.workers, config.workerId, process.pid);

/** Takes over one event a dead worker had claimed, then acknowledges it. */
async function takeOver(agent: Agent, delivered: DeliveredEvent): Promise<void> {
  const graph = graphs[agent];
  const thread = threadId(agent, delivered.event.eventId);
  const threadConfig = { configurable: { thread_id: thread } };
  if (runtime.setup === "naive") {
    await recorder.record("takeover", { thread, how: "restarted", worker: config.workerId });
    await runtime.run(graph, { event: delivered.event }, thread);
  } else {
    // The worker died before the run's first checkpoint: there is nothing to resume, so start the run (once the
    // dead worker's lease on the thread has expired). A run that has a checkpoint is the recovery worker's: it
    // resumes it once its lease expires (or it finished already).
    for (let attempt = 1; !(await graph.getState(threadConfig)).config.configurable?.checkpoint_id; attempt++) {
      try {
        await runtime.run(graph, { event: delivered.event }, thread);
      } catch (error) {
        if (!(error instanceof RunLeaseHeldError) || attempt >= 60) throw error;
        await sleep(POLL_MS);
      }
    }
  }
  await ackEvent(client, keys, agent, delivered.streamId);
}

const running = new Set<Promise<void>>();
async function sweep(): Promise<void> {
  for (const agent of agents) {
    for (const consumer of await groupConsumers(client, keys, agent)) {
      if (consumer.name === config.workerId || (await client.exists(keys.heartbeat(consumer.name)))) continue;
      for (const delivered of await claimPending(client, keys, agent, consumer.name, config.workerId)) {
        const run = takeOver(agent, delivered)
          .catch((error: Error) => console.error(`[recoverer] ${delivered.event.eventId}: ${error.message}`))
          .finally(() => running.delete(run));
        running.add(run);
      }
    }
  }
}

while (!(await client.exists(keys.stop))) {
  await sweep().catch((error: Error) => console.error(`[recoverer] ${error.message}`));
  await sleep(POLL_MS);
}
await Promise.all(running);
await Promise.all(recoveryWorkers.map((worker) => worker.stop()));
await Promise.all(recording);
await runtime.close();
await recorder.close();
await closeClient(client);
process.exit(0);

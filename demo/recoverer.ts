/**
 * Recoverer process entry. It watches the workers' heartbeats; when a worker dies it claims the order events that
 * worker had taken and not finished, and takes over their runs:
 *  - with the layer, a run that had started resumes from its last checkpoint in Redis (completed steps are not
 *    run again; a charge that was in flight replays the same provider request);
 *  - without it, the dead process's checkpoints died with it, so the run can only start again from scratch.
 *
 *   node --import tsx demo/recoverer.ts '<ProcessConfig JSON>'
 */
import { setTimeout as sleep } from "node:timers/promises";
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
const graphs = { fraud: fraudGraph(runtime), payment: paymentGraph(runtime) };

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
    const snapshot = await graph.getState(threadConfig);
    if (!snapshot.config.configurable?.checkpoint_id) {
      // The worker died before the run's first checkpoint: nothing to resume, start it.
      await runtime.run(graph, { event: delivered.event }, thread);
    } else if (snapshot.next.length > 0) {
      const checkpointId = String(snapshot.config.configurable.checkpoint_id);
      await recorder.record("takeover", { thread, how: "resumed", worker: config.workerId, checkpointId });
      await runtime.resume(graph, thread);
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
await runtime.close();
await recorder.close();
await closeClient(client);
process.exit(0);

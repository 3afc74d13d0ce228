/**
 * Worker process entry: runs one agent (fraud or payment) over the order stream, `concurrency` runs at a time,
 * one thread per event ("<agent>:<event id>"). An event is acknowledged when its run has finished; the entries of
 * a worker that dies stay pending in the consumer group, where the recoverer finds them.
 *
 *   node --import tsx demo/worker.ts '<ProcessConfig JSON>'
 */
import { setTimeout as sleep } from "node:timers/promises";
import { isCluster } from "langgraph-redis";
import { closeClient, connect } from "./connect.js";
import { createRuntime } from "./create-runtime.js";
import { fraudGraph } from "./fraud-agent.js";
import { DemoKeys } from "./keys.js";
import { ackEvent, type DeliveredEvent, readEvents, threadId } from "./orders.js";
import { paymentGraph } from "./payment-agent.js";
import { readProcessConfig } from "./processes.js";
import { type Agent, Recorder } from "./recording.js";

const ATTEMPTS = 3;

const config = readProcessConfig();
if (!config.agent) throw new Error("a worker process needs config.agent");
const agent: Agent = config.agent;
const keys = new DemoKeys(config.prefix);
const client = connect(config.redisUrl);
// A connection of its own for XREADGROUP BLOCK, which holds the connection while it waits.
const blocking = isCluster(client) ? client.duplicate() : client.duplicate();
const recorder = new Recorder(client, keys, config.workerId);
const runtime = await createRuntime(config, client, recorder);
const graph = agent === "fraud" ? runtime.lease(fraudGraph(runtime)) : runtime.lease(paymentGraph(runtime));

const beat = () => client.set(keys.heartbeat(config.workerId), String(process.pid), "PX", 3000);
await beat();
const heartbeat = setInterval(() => void beat().catch(() => {}), 250);
await client.hset(keys.workers, config.workerId, process.pid);

/** Runs the event's graph on its thread (retrying from the last checkpoint if an attempt fails), then acks it. */
async function handle(delivered: DeliveredEvent): Promise<void> {
  const thread = threadId(agent, delivered.event.eventId);
  await recorder.inFlight(1);
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        if (attempt === 1) await runtime.run(graph, { event: delivered.event }, thread);
        else await runtime.resume(graph, thread);
        break;
      } catch (error) {
        console.error(`[${config.workerId}] ${thread} attempt ${attempt} failed: ${(error as Error).message}`);
        if (attempt >= ATTEMPTS) return;
        await sleep(200 * attempt);
      }
    }
    await ackEvent(client, keys, agent, delivered.streamId);
  } finally {
    await recorder.inFlight(-1);
  }
}

const running = new Set<Promise<void>>();
while (!(await client.exists(keys.stop))) {
  const free = config.concurrency - running.size;
  if (free === 0) {
    await Promise.race(running);
    continue;
  }
  for (const delivered of await readEvents(blocking, keys, agent, config.workerId, free, 200)) {
    const run = handle(delivered).finally(() => running.delete(run));
    running.add(run);
  }
}
await Promise.all(running);
clearInterval(heartbeat);
await runtime.close();
await recorder.close();
await Promise.all([closeClient(client), closeClient(blocking)]);
process.exit(0);

/**
 * Worker process entry: runs one agent (fraud or payment) over the order stream, `concurrency` runs at a time,
 * one thread per event ("<agent>:<event id>"). An event is acknowledged when its run has finished; the entries of
 * a worker that dies stay pending in the consumer group, where the recoverer finds them.
 *
 *   node --import tsx demo/worker.ts '<ProcessConfig JSON>'
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import { isCluster } from "langgraph-redis";
import { closeClient, connect } from "./connect.js";
import { createRuntime } from "./create-runtime.js";
import { fraudGraph } from "./fraud-agent.js";
import { DemoKeys } from "./keys.js";
import { ackEvent, type DeliveredEvent, readEvents, threadId } from "./orders.js";
import { paymentGraph } from "./payment-agent.js";
import { readProcessConfig } from "./processes.js";
import { Recorder } from "./recording.js";

const ATTEMPTS = 3;

const config = readProcessConfig();
const agent = config.agent;
if (!agent) throw new Error("a worker needs an agent");
const keys = new DemoKeys(config.prefix);
const client = connect(config.redisUrl);
const blocking = (isCluster(client) ? client.duplicate() : client.duplicate()) as Redis;
const recorder = new Recorder(client, keys, config.workerId);
const runtime = await createRuntime(config, client, recorder);
const graph = agent === "fraud" ? fraudGraph(runtime) : paymentGraph(runtime);

const beat = () => client.set(keys.heartbeat(config.workerId), String(process.pid), "PX", 2000);
await beat();
const heartbeat = setInterval(() => void beat().catch(() => {}), 250);
await client.hset(keys.workers, config.workerId, process.pid);

async function process1(delivered: DeliveredEvent): Promise<void> {
  const thread = threadId(agent as NonNullable<typeof agent>, delivered.event.eventId);
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
    await ackEvent(client, keys, agent as NonNullable<typeof agent>, delivered.streamId);
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
    const run = process1(delivered).finally(() => running.delete(run));
    running.add(run);
  }
}
await Promise.all(running);
clearInterval(heartbeat);
await runtime.close();
await recorder.close();
await Promise.all([closeClient(client), closeClient(blocking)]);
process.exit(0);

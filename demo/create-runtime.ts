/** Builds the per-setup parts: an agent process's runtime, and the orchestrator's view of the shared state. */
import { type RedisClient, RedisSaver, RedisStore } from "langgraph-redis";
import { DemoKeys } from "./keys.js";
import { layerRuntime } from "./layer-runtime.js";
import { LayerState } from "./layer-state.js";
import { naiveRuntime } from "./naive-runtime.js";
import { NaiveState } from "./naive-state.js";
import type { SetupName } from "./options.js";
import { agents, type Order, type OrderEvent, threadId } from "./orders.js";
import type { ProcessConfig } from "./processes.js";
import type { Recorder } from "./recording.js";
import type { AgentRuntime } from "./runtime.js";
import type { SharedState } from "./shared-state.js";

export async function createRuntime(
  config: ProcessConfig,
  client: RedisClient,
  recorder: Recorder,
): Promise<AgentRuntime> {
  return config.setup === "naive" ? naiveRuntime(client, recorder) : layerRuntime(config, client, recorder);
}

/** The orchestrator's side of a setup: reading the final documents, and deleting what the run stored. */
export interface Observer {
  readonly state: SharedState;
  cleanup(schedule: readonly { event: OrderEvent }[], orders: readonly Order[]): Promise<void>;
  close(): Promise<void>;
}

export async function createObserver(setup: SetupName, client: RedisClient, prefix: string): Promise<Observer> {
  if (setup === "naive") {
    // Its documents are demo keys (in the index set); nothing else to delete.
    return { state: new NaiveState(client, new DemoKeys(prefix)), cleanup: async () => {}, close: async () => {} };
  }
  const saver = new RedisSaver({ client, keyPrefix: prefix });
  return {
    state: new LayerState(new RedisStore({ client, keyPrefix: prefix }), "orchestrator"),
    async cleanup(schedule) {
      // Every checkpoint, blob and write of each thread, through the saver's own API. What is left under the run's
      // prefix (store items and their history, lock fences, lease indexes) goes with the sweep in cleanup.ts.
      for (const { event } of schedule) {
        for (const agent of agents) await saver.deleteThread(threadId(agent, event.eventId));
      }
    },
    close: async () => {},
  };
}

/** Builds the per-setup parts: an agent process's runtime, and the orchestrator's view of the shared state. */
import type { RedisClient } from "langgraph-redis";
import { DemoKeys } from "./keys.js";
import { naiveRuntime } from "./naive-runtime.js";
import { NaiveState } from "./naive-state.js";
import type { SetupName } from "./options.js";
import type { Order, OrderEvent } from "./orders.js";
import type { ProcessConfig } from "./processes.js";
import type { Recorder } from "./recording.js";
import type { AgentRuntime } from "./runtime.js";
import type { SharedState } from "./shared-state.js";

export async function createRuntime(
  config: ProcessConfig,
  client: RedisClient,
  recorder: Recorder,
): Promise<AgentRuntime> {
  if (config.setup === "naive") return naiveRuntime(client, recorder);
  throw new Error("the layer setup is not wired yet");
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
  throw new Error("the layer setup is not wired yet");
}

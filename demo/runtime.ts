/**
 * What an agent process runs on: a checkpointer, the shared state, locks around the nodes that act on an order,
 * and the recording. One implementation per setup: the layer (demo/layer-runtime.ts) and the naive baseline
 * (demo/naive-runtime.ts). The agents' graphs are the same code in both.
 */
import type { BaseCheckpointSaver, LangGraphRunnableConfig } from "@langchain/langgraph";
import type { LeasableGraph } from "langgraph-redis";
import type { SetupName } from "./options.js";
import type { OrderEvent } from "./orders.js";
import type { PaymentProvider } from "./provider.js";
import type { Recorder } from "./recording.js";
import type { SharedState, WriteGuard } from "./shared-state.js";

export type Node<S, U> = (state: S, config: LangGraphRunnableConfig) => Promise<U>;

/** The smallest view of a compiled graph a worker needs (the fraud and payment graphs have different types). */
export interface RunnableGraph {
  invoke(
    input: unknown,
    config: { configurable: { thread_id: string }; durability?: "sync" | "async" | "exit" },
  ): Promise<unknown>;
}

export interface AgentRuntime {
  readonly setup: SetupName;
  readonly worker: string;
  readonly checkpointer: BaseCheckpointSaver;
  readonly state: SharedState;
  readonly recorder: Recorder;
  readonly provider: PaymentProvider;
  /** Wraps a node that reads an order and acts on it: in the layer, it runs under the order's lock. */
  critical<S extends { event: OrderEvent }, U>(node: Node<S, U>): Node<S, U>;
  /** What a write made inside a critical node carries (the fencing token of its lock, in the layer). */
  writeGuard(config: LangGraphRunnableConfig, orderId: string): WriteGuard;
  /** Gives every run of the graph a lease (the layer's crash detection); the naive setup has none. */
  lease<G extends LeasableGraph>(graph: G): G;
  /** Runs one event's graph on its thread to the end (in the layer: under a run lease, so a crash is found). */
  run(graph: RunnableGraph, input: { event: OrderEvent }, threadId: string): Promise<void>;
  /** Continues a thread from its last checkpoint (after a failed attempt in the same process). */
  resume(graph: RunnableGraph, threadId: string): Promise<void>;
  close(): Promise<void>;
}

/** Times every checkpoint put (the saver's own method, so RedisSaver and MemorySaver are measured alike). */
export function timePuts<T extends BaseCheckpointSaver>(saver: T, recorder: Recorder): T {
  const put = saver.put.bind(saver);
  saver.put = async (config, checkpoint, metadata, newVersions) => {
    const started = performance.now();
    const result = await put(config, checkpoint, metadata, newVersions);
    recorder.sample("put", performance.now() - started);
    return result;
  };
  return saver;
}

/** The lock key of an order, shared by the fraud agent and the payment agent. */
export function orderLockKey(orderId: string): string {
  return `order:${orderId}`;
}

/** Stable across a crash and resume (LangGraph keeps task ids), new for a run started from scratch. */
export function taskWriteId(config: LangGraphRunnableConfig, what: string): string {
  const thread = String(config.configurable?.thread_id ?? "");
  const task = config.executionInfo?.taskId ?? String(config.configurable?.checkpoint_ns ?? "");
  return `${thread}/${task}/${what}`;
}

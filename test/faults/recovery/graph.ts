/**
 * The graph of the recovery kill test: six supersteps, one of them parallel (quote || reserve), one guarded node
 * (charge, locked on its order). Every node records its execution in Redis before it does anything (RPUSH on the
 * thread's execution list: node, task id, the checkpoint it ran from, and which process ran it) and tags its output
 * with that process, so the test can tell which execution's writes ended up in the state.
 *
 * Outputs depend only on the input, so the final state (apart from `audit`) must equal a run that never crashed.
 */
import { setTimeout as sleep } from "node:timers/promises";
import {
  Annotation,
  type BaseCheckpointSaver,
  END,
  type LangGraphRunnableConfig,
  START,
  StateGraph,
} from "@langchain/langgraph";
import type { RedisClient } from "../../../src/client.js";

export const KillState = Annotation.Root({
  orderId: Annotation<string>(),
  amount: Annotation<number>(),
  steps: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  price: Annotation<number>(),
  stock: Annotation<number>(),
  risk: Annotation<string>(),
  chargeId: Annotation<string>(),
  status: Annotation<string>(),
  /** "<node>@<process tag>" for each output that reached the state; excluded from the no-crash comparison. */
  audit: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

export type KillStateValues = typeof KillState.State;
type Update = Partial<KillStateValues>;

export const NODES = ["intake", "quote", "reserve", "assess", "charge", "notify", "close"] as const;
export type NodeName = (typeof NODES)[number];

export interface KillGraphOptions {
  checkpointer: BaseCheckpointSaver;
  client: RedisClient;
  /** Prefix of the test's own keys (execution lists). */
  keyPrefix: string;
  /** Names the process in execution records and audit entries. */
  processTag: string;
  /** Each node waits a random 0..maxDelayMs before returning, to spread kills across the run. */
  maxDelayMs: number;
  /** Wraps the charge node (guarded() in the test). */
  guardCharge?: <N extends (state: KillStateValues, config: LangGraphRunnableConfig) => Promise<Update>>(node: N) => N;
  /** Called when a node starts and ends (the worker prints it as a phase marker). */
  onPhase?: (threadId: string, phase: string) => void;
}

/** The Redis list recording every execution of a thread's nodes, in the order they started. */
export function executionsKey(keyPrefix: string, threadId: string): string {
  return `${keyPrefix}:kill:exec:{${threadId}}`;
}

const compute: Record<NodeName, (s: KillStateValues) => Update> = {
  intake: (s) => ({ steps: [`intake:${s.orderId}`], amount: Math.round(s.amount) }),
  quote: (s) => ({ steps: ["quote"], price: s.amount * 3 + 1 }),
  reserve: (s) => ({ steps: ["reserve"], stock: s.amount % 7 }),
  assess: (s) => ({ steps: ["assess"], risk: s.price + s.stock > 100 ? "review" : "ok" }),
  charge: (s) => ({ steps: ["charge"], chargeId: `ch-${s.orderId}-${s.price}` }),
  notify: (s) => ({ steps: [`notify:${s.risk}`] }),
  close: (s) => ({ steps: ["close"], status: `closed:${s.chargeId}` }),
};

export function buildKillGraph(options: KillGraphOptions) {
  const recorded = (name: NodeName) => async (state: KillStateValues, config: LangGraphRunnableConfig) => {
    const threadId = String(config.configurable?.thread_id);
    const info = config.executionInfo;
    options.onPhase?.(threadId, `node-start ${name}`);
    const record = `${name}|${info?.taskId ?? "?"}|${info?.checkpointId ?? "?"}|${options.processTag}`;
    await options.client.rpush(executionsKey(options.keyPrefix, threadId), record);
    if (options.maxDelayMs > 0) await sleep(Math.floor(Math.random() * (options.maxDelayMs + 1)));
    const update = compute[name](state);
    options.onPhase?.(threadId, `node-end ${name}`);
    return { ...update, audit: [`${name}@${options.processTag}`] };
  };
  const charge = options.guardCharge ? options.guardCharge(recorded("charge")) : recorded("charge");
  return new StateGraph(KillState)
    .addNode("intake", recorded("intake"))
    .addNode("quote", recorded("quote"))
    .addNode("reserve", recorded("reserve"))
    .addNode("assess", recorded("assess"))
    .addNode("charge", charge)
    .addNode("notify", recorded("notify"))
    .addNode("close", recorded("close"))
    .addEdge(START, "intake")
    .addEdge("intake", "quote")
    .addEdge("intake", "reserve")
    .addEdge(["quote", "reserve"], "assess")
    .addEdge("assess", "charge")
    .addEdge("charge", "notify")
    .addEdge("notify", "close")
    .addEdge("close", END)
    .compile({ checkpointer: options.checkpointer, name: "orders" });
}

/** The input of a thread; several threads share inputs, so the no-crash reference is computed once per input. */
export function inputFor(index: number): { orderId: string; amount: number } {
  return { orderId: `o${index % 40}`, amount: 5 + (index % 40) * 1.5 };
}

/** The state without the audit channel: what must equal a run with no crash. */
export function domainState(values: KillStateValues): Omit<KillStateValues, "audit"> {
  const { audit: _audit, ...rest } = values;
  return rest;
}

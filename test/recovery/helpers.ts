/** Shared by the recovery tests: bounded polling (no timed assertions), a small graph and an in-process crash. */
import { setTimeout as sleep } from "node:timers/promises";
import type { RunnableConfig } from "@langchain/core/runnables";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { Annotation, type BaseCheckpointSaver, END, interrupt, START, StateGraph } from "@langchain/langgraph";
import type { RedisClient } from "../../src/client.js";
import { RunLeaseLostError } from "../../src/errors.js";
import {
  runLeaseHoldersKey,
  runLeaseIndexKey,
  runLeaseTokenKey,
  THREAD_BUCKETS,
  threadBucket,
} from "../../src/keys.js";
import { startRecoveryWorker } from "../../src/recovery/start-recovery-worker.js";
import { withRunLease } from "../../src/recovery/with-run-lease.js";
import { newRedis } from "../helpers/redis.js";

/** Polls `check` every `everyMs` until it is true; fails after `timeoutMs` (a bound, not a timing assertion). */
export async function waitUntil(check: () => Promise<boolean> | boolean, everyMs = 50, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

export const TestState = Annotation.Root({
  input: Annotation<number>(),
  trail: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

export type Behaviour =
  | "run"
  | "block"
  | "hang"
  | "fail"
  | "interrupt"
  | { sleepMs: number }
  | { until: Promise<void> };

export interface TestGraphOptions {
  checkpointer: BaseCheckpointSaver;
  /** What each node does; "run" when absent. */
  behaviour?: Partial<Record<"a" | "b1" | "b2" | "c", Behaviour>>;
  /** Counts executions per "<thread>:<node>". */
  executions?: Map<string, number>;
  /** Called when a node starts. */
  onStart?: (node: string, threadId: string) => void;
}

/** a -> (b1 || b2) -> c: four nodes, one parallel superstep. */
export function testGraph(options: TestGraphOptions) {
  const node =
    (name: "a" | "b1" | "b2" | "c") => async (state: typeof TestState.State, config: LangGraphRunnableConfig) => {
      const threadId = String(config.configurable?.thread_id);
      const key = `${threadId}:${name}`;
      options.executions?.set(key, (options.executions.get(key) ?? 0) + 1);
      options.onStart?.(name, threadId);
      const behaviour = options.behaviour?.[name] ?? "run";
      if (behaviour === "block") {
        await new Promise((_, reject) => {
          const signal = config.signal;
          if (signal?.aborted) reject(signal.reason);
          signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
        });
      } else if (behaviour === "hang") {
        await new Promise(() => {}); // ignores its signal, like a process that is gone
      } else if (behaviour === "fail") {
        throw new Error(`node ${name} failed`);
      } else if (behaviour === "interrupt") {
        const answer = interrupt(`approve ${name}?`) as string;
        return { trail: [`${name}:${answer}`] };
      } else if (typeof behaviour === "object") {
        await ("until" in behaviour ? behaviour.until : sleep(behaviour.sleepMs));
      }
      return { trail: [`${name}(${state.input})`] };
    };
  return new StateGraph(TestState)
    .addNode("a", node("a"))
    .addNode("b1", node("b1"))
    .addNode("b2", node("b2"))
    .addNode("c", node("c"))
    .addEdge(START, "a")
    .addEdge("a", "b1")
    .addEdge("a", "b2")
    .addEdge(["b1", "b2"], "c")
    .addEdge("c", END)
    .compile({ checkpointer: options.checkpointer });
}

/**
 * A run that dies in this process: it runs on its own Redis connection until `blockAt` starts, then the connection
 * is cut (and its checkpointer stops storing), so its heartbeats stop and its lease expires in Redis exactly as when
 * a process is killed. The run itself notices a leaseMs later and aborts with RunLeaseLostError, which this awaits.
 */
export async function crashRun(options: {
  checkpointer: BaseCheckpointSaver;
  keyPrefix: string;
  name: string;
  threadId: string;
  leaseMs: number;
  blockAt?: "a" | "b1" | "b2" | "c";
  /**
   * When the connection is cut the checkpointer stops storing too (default), as in a killed process; false lets
   * the aborted run record its RunLeaseLostError on the blocked task, as a run that lost Redis only would.
   */
  checkpointerDies?: boolean;
  /** Drop checkpoints of this step on: the process "dies" between its last putWrites and the next put. */
  dropCheckpointsFromStep?: number;
  owner?: string;
  connect?: () => RedisClient;
}): Promise<void> {
  const client = (options.connect ?? newRedis)();
  const blockAt = options.blockAt ?? "b1";
  let started = false;
  let dead = false;
  const checkpointer =
    options.checkpointerDies === false
      ? options.checkpointer
      : dying(options.checkpointer, () => dead, options.dropCheckpointsFromStep);
  const app = withRunLease(
    testGraph({
      checkpointer,
      behaviour: { [blockAt]: "block" },
      onStart: (node) => {
        if (node === blockAt) started = true;
      },
    }),
    {
      client,
      keyPrefix: options.keyPrefix,
      name: options.name,
      leaseMs: options.leaseMs,
      ...(options.owner ? { owner: options.owner } : {}),
    },
  );
  const run = app.invoke({ input: 7 }, { configurable: { thread_id: options.threadId } });
  const outcome = run.then(
    () => new Error("the run finished instead of crashing"),
    (error: unknown) => error,
  );
  await waitUntil(() => started, 10);
  dead = true;
  client.disconnect();
  const error = await outcome;
  if (!(error instanceof RunLeaseLostError)) throw error;
}

/** A promise and the function that resolves it. */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** The checkpointer as a dying process sees it: once `isDead()`, nothing it is given is stored any more. */
function dying(checkpointer: BaseCheckpointSaver, isDead: () => boolean, fromStep = Infinity): BaseCheckpointSaver {
  return new Proxy(checkpointer, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      if (property === "put") {
        return (...args: Parameters<BaseCheckpointSaver["put"]>) =>
          isDead() || (args[2].step ?? -1) >= fromStep ? Promise.resolve(args[0]) : target.put(...args);
      }
      if (property === "putWrites") {
        return (...args: Parameters<BaseCheckpointSaver["putWrites"]>) =>
          isDead() ? Promise.resolve() : target.putWrites(...args);
      }
      return value.bind(target);
    },
  });
}

/** What a run of testGraph with input 7 ends with when nothing crashes. */
/** `graph` whose getState fails for `threadId`, as for a thread whose checkpoint cannot be read. */
export function unreadableThread<G extends { getState: (...args: never[]) => unknown }>(graph: G, threadId: string): G {
  const getState = graph.getState.bind(graph) as (config: RunnableConfig, ...rest: unknown[]) => unknown;
  graph.getState = (async (config: RunnableConfig, ...rest: unknown[]) => {
    if (config.configurable?.thread_id === threadId) throw new Error("corrupt checkpoint");
    return getState(config, ...rest);
  }) as unknown as G["getState"];
  return graph;
}

export const FINAL_TRAIL = ["a(7)", "b1(7)", "b2(7)", "c(7)"];

/** Runs a recovery worker on `app` until the test graph's run on `config`'s thread has all four nodes' trail. */
export async function finishWithWorker(app: ReturnType<typeof withRunLease>, config: { configurable: object }) {
  const worker = startRecoveryWorker(app, { intervalMs: 50 });
  try {
    await waitUntil(async () => (await app.getState(config)).values.trail?.length === FINAL_TRAIL.length, 20);
  } finally {
    await worker.stop();
  }
}

/** The lease keys of the bucket a thread's runs live in (see keys.ts: the lease index is spread over buckets). */
export function leaseKeysOf(prefix: string, graph: string, threadId: string) {
  const bucket = threadBucket(threadId);
  return {
    index: runLeaseIndexKey(prefix, graph, bucket),
    holders: runLeaseHoldersKey(prefix, graph, bucket),
    counter: runLeaseTokenKey(prefix, graph, bucket),
  };
}

/** Entries of a graph's lease index and holders over every bucket. */
export async function leaseCounts(client: RedisClient, prefix: string, graph: string) {
  let index = 0;
  let holders = 0;
  for (let bucket = 0; bucket < THREAD_BUCKETS; bucket++) {
    index += await client.zcard(runLeaseIndexKey(prefix, graph, bucket));
    holders += await client.hlen(runLeaseHoldersKey(prefix, graph, bucket));
  }
  return { index, holders };
}

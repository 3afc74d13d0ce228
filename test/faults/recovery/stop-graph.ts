/**
 * The graph of the stopped-run test: six sequential steps. Each node records that it started (RPUSH on the thread's
 * execution list, "<node>|<process tag>"), waits `stepMs`, and adds "<node>@<process tag>" to `by`, so the test can
 * tell which process produced every output stored in the thread.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Annotation, type LangGraphRunnableConfig, START, StateGraph } from "@langchain/langgraph";
import type { RedisClient } from "../../../src/client.js";
import { RedisSaver } from "../../../src/index.js";

export const STEPS = ["s1", "s2", "s3", "s4", "s5", "s6"] as const;

const StopState = Annotation.Root({
  by: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

export function stopExecutionsKey(keyPrefix: string, threadId: string): string {
  return `${keyPrefix}:stop:exec:{${threadId}}`;
}

export interface StopGraphOptions {
  client: RedisClient;
  keyPrefix: string;
  tag: string;
  stepMs: number;
  /** Called when a node starts and ends. */
  onPhase?: (phase: string) => void;
}

export function buildStopGraph(options: StopGraphOptions) {
  const step = (name: string) => async (_state: unknown, config: LangGraphRunnableConfig) => {
    options.onPhase?.(`start ${name}`);
    await options.client.rpush(
      stopExecutionsKey(options.keyPrefix, String(config.configurable?.thread_id)),
      `${name}|${options.tag}`,
    );
    await sleep(options.stepMs);
    options.onPhase?.(`end ${name}`);
    return { by: [`${name}@${options.tag}`] };
  };
  let builder = new StateGraph(StopState) as unknown as StateGraph<typeof StopState.spec, any, any, string>;
  let previous: string = START;
  for (const name of STEPS) {
    builder = builder.addNode(name, step(name)).addEdge(previous, name) as typeof builder;
    previous = name;
  }
  return builder.compile({
    checkpointer: new RedisSaver({ client: options.client, keyPrefix: options.keyPrefix }),
    name: "stopped",
  });
}

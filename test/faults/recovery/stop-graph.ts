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
  const builder = new StateGraph(StopState)
    .addNode("s1", step("s1"))
    .addNode("s2", step("s2"))
    .addNode("s3", step("s3"))
    .addNode("s4", step("s4"))
    .addNode("s5", step("s5"))
    .addNode("s6", step("s6"))
    .addEdge(START, "s1")
    .addEdge("s1", "s2")
    .addEdge("s2", "s3")
    .addEdge("s3", "s4")
    .addEdge("s4", "s5")
    .addEdge("s5", "s6");
  return builder.compile({
    checkpointer: new RedisSaver({ client: options.client, keyPrefix: options.keyPrefix }),
    name: "stopped",
  });
}

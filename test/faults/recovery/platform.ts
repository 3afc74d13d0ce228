/** The checkpointer and the guard of the kill test's processes: RedisSaver and guarded(), through their public API. */
import type { BaseCheckpointSaver, LangGraphRunnableConfig } from "@langchain/langgraph";
import type { RedisClient } from "../../../src/client.js";
import { guarded, RedisSaver } from "../../../src/index.js";
import type { KillStateValues } from "./graph.js";

export function makeSaver(client: RedisClient, keyPrefix: string): BaseCheckpointSaver {
  return new RedisSaver({ client, keyPrefix });
}

/**
 * The charge node under a lock on its order. A killed holder's lock expires after lockTimeoutMs; the resumed run
 * waits for it (acquireTimeoutMs bounds the wait).
 */
export function guardNode<N extends (state: KillStateValues, config: LangGraphRunnableConfig) => Promise<unknown>>(
  node: N,
  client: RedisClient,
  keyPrefix: string,
): N {
  return guarded(node, {
    client,
    keyPrefix,
    key: (state: KillStateValues) => `order:${state.orderId}`,
    lockTimeoutMs: 2_000,
    acquireTimeoutMs: 60_000,
  }) as unknown as N;
}

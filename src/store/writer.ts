import { AsyncLocalStorageProviderSingleton } from "@langchain/core/singletons";

/**
 * Who a write is recorded as: the write's own `writer`, else the agent id in the LangGraph config the call runs in
 * (`configurable.agent_id` or `configurable.agentId`), else the store's `agentId`, else the name of the graph node
 * doing the write, else null. A call made directly inside a node sees the node's config; writes that LangGraph's
 * AsyncBatchedStore batches run outside any node, so they fall back to the store's `agentId`.
 */
export function resolveWriter(explicit: string | undefined, storeAgentId: string | undefined): string | null {
  if (explicit) return explicit;
  const config = AsyncLocalStorageProviderSingleton.getRunnableConfig() as
    | { configurable?: Record<string, unknown>; metadata?: Record<string, unknown> }
    | undefined;
  const fromConfig = config?.configurable?.agent_id ?? config?.configurable?.agentId;
  if (typeof fromConfig === "string" && fromConfig !== "") return fromConfig;
  if (storeAgentId) return storeAgentId;
  const node = config?.metadata?.langgraph_node;
  return typeof node === "string" && node !== "" ? node : null;
}

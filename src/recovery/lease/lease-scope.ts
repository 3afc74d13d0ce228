import type { RedisClient } from "../../client.js";
import { createRedisContext, type RedisContext } from "../../context.js";
import { runLeaseHoldersKey, runLeaseIndexKey, runLeaseTokenKey } from "../../keys.js";

/** Where the leases of one graph live: the shared context, the graph name that names the index, and its keys. */
export interface LeaseScope extends RedisContext {
  readonly graphName: string;
  readonly keys: LeaseKeys;
}

export interface LeaseKeys {
  readonly index: string;
  readonly holders: string;
  readonly counter: string;
}

/** The lease scope of one graph on `client` (scripts are registered by the context's ready()). */
export function openLeaseScope(options: { client: RedisClient; keyPrefix: string; graphName: string }): LeaseScope {
  const { keyPrefix, graphName } = options;
  return {
    ...createRedisContext({ client: options.client, keyPrefix, component: "withRunLease" }),
    graphName,
    keys: {
      index: runLeaseIndexKey(keyPrefix, graphName),
      holders: runLeaseHoldersKey(keyPrefix, graphName),
      counter: runLeaseTokenKey(keyPrefix, graphName),
    },
  };
}

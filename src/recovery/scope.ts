import type { RedisClient } from "../client.js";
import { runLeaseHoldersKey, runLeaseIndexKey, runLeaseTokenKey } from "../keys.js";
import { registerScripts } from "../scripts/index.js";

/** Where the leases of one graph live: a client, the key prefix and the graph name that names the index. */
export interface LeaseScope {
  readonly client: RedisClient;
  readonly keyPrefix: string;
  readonly graphName: string;
}

export interface LeaseKeys {
  readonly index: string;
  readonly holders: string;
  readonly counter: string;
}

export function leaseKeys(scope: LeaseScope): LeaseKeys {
  return {
    index: runLeaseIndexKey(scope.keyPrefix, scope.graphName),
    holders: runLeaseHoldersKey(scope.keyPrefix, scope.graphName),
    counter: runLeaseTokenKey(scope.keyPrefix, scope.graphName),
  };
}

/** Registers the lease scripts on the scope's client (idempotent) and returns the scope. */
export function openLeaseScope(scope: LeaseScope): LeaseScope {
  registerScripts(scope.client);
  return scope;
}

import { type AuditOutbox, withAuditEvent } from "../audit/outbox.js";
import type { RedisClient } from "../client.js";
import { parseRunLeaseMember, runLeaseHoldersKey, runLeaseIndexKey, runLeaseTokenKey } from "../keys.js";
import { registerScripts } from "../scripts/index.js";

/** Where the leases of one graph live: a client, the key prefix and the graph name that names the index. */
export interface LeaseScope {
  readonly client: RedisClient;
  readonly keyPrefix: string;
  readonly graphName: string;
  /** The audit outbox, when withRunLease's `audit` option is on. */
  readonly audit?: AuditOutbox | undefined;
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

/** What a lease event records: the run (thread, namespace), the graph, and who acted. */
export function leaseAuditContext(scope: LeaseScope, member: string, owner: string): Record<string, unknown> {
  const run = parseRunLeaseMember(member);
  return {
    threadId: run?.threadId,
    checkpointNs: run?.checkpointNs,
    graph: scope.graphName,
    owner,
    agent: scope.audit?.agentId ?? owner,
  };
}

/** A lease script's keys and arguments, with the audit outbox appended when the scope audits. */
export async function leaseScriptCall(
  scope: LeaseScope,
  keys: readonly string[],
  args: readonly (string | number)[],
  member: string,
  owner: string,
): Promise<[string[], (string | number)[]]> {
  if (!scope.audit) return [[...keys], [...args]];
  const stream = await scope.audit.stream(keys[0] as string);
  return withAuditEvent(keys, args, stream, leaseAuditContext(scope, member, owner));
}

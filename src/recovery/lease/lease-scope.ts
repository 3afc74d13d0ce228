import { type AuditOutbox, withAuditContext } from "../../audit/outbox.js";
import type { RedisClient } from "../../client.js";
import { createRedisContext, type RedisContext } from "../../context.js";
import { parseRunLeaseMember, runLeaseHoldersKey, runLeaseIndexKey, runLeaseTokenKey } from "../../keys.js";

/** Where the leases of one graph live: the shared context, the graph name that names the index, and its keys. */
export interface LeaseScope extends RedisContext {
  readonly graphName: string;
  readonly keys: LeaseKeys;
  /** The audit outbox, when withRunLease's `audit` option is on. */
  readonly audit?: AuditOutbox | undefined;
}

export interface LeaseKeys {
  readonly index: string;
  readonly holders: string;
  readonly counter: string;
}

/** The lease scope of one graph on `client` (scripts are registered by the context's ready()). */
export function openLeaseScope(options: {
  client: RedisClient;
  keyPrefix: string;
  graphName: string;
  audit?: AuditOutbox | undefined;
}): LeaseScope {
  const { keyPrefix, graphName } = options;
  return {
    ...createRedisContext({ client: options.client, keyPrefix, component: "withRunLease" }),
    graphName,
    audit: options.audit,
    keys: {
      index: runLeaseIndexKey(keyPrefix, graphName),
      holders: runLeaseHoldersKey(keyPrefix, graphName),
      counter: runLeaseTokenKey(keyPrefix, graphName),
    },
  };
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

/** A lease script's keys and arguments, with the audit outbox and the event context when the scope audits. */
export async function auditedLeaseCall<A extends readonly unknown[]>(
  scope: LeaseScope,
  args: A,
  member: string,
  owner: string,
): Promise<{ keys: LeaseKeys & { outbox?: string }; args: A }> {
  if (!scope.audit) return { keys: scope.keys, args };
  const outbox = await scope.audit.stream(scope.keys.index);
  return { keys: { ...scope.keys, outbox }, args: withAuditContext(args, leaseAuditContext(scope, member, owner)) };
}

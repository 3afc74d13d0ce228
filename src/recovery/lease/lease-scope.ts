import { type AuditOutbox, withAuditContext } from "../../audit/outbox.js";
import type { RedisClient } from "../../client.js";
import { createRedisContext, type RedisContext } from "../../context.js";
import {
  parseRunLeaseMember,
  runLeaseHoldersKey,
  runLeaseIndexKey,
  runLeaseQueueKey,
  runLeaseRunsKey,
  runLeaseTokenKey,
  runLeaseWaitersKey,
  THREAD_BUCKETS,
  threadBucket,
} from "../../keys.js";

/**
 * Where the leases of one graph live: the shared context, the graph name that names the index, and the keys of
 * each bucket of the index (a run lives in the bucket of its thread).
 */
export interface LeaseScope extends RedisContext {
  readonly graphName: string;
  /** The keys of the bucket a run member (keys.runLeaseMember) lives in. */
  keysOf(member: string): LeaseKeys;
  /** The keys of a run's "enqueue" queue (in its bucket's slot). */
  queueKeysOf(member: string): { readonly queue: string; readonly waiters: string };
  /** The keys of every bucket, in bucket order. */
  readonly buckets: readonly LeaseKeys[];
  /** The audit outbox, when withRunLease's `audit` option is on. */
  readonly audit?: AuditOutbox | undefined;
}

export interface LeaseKeys {
  readonly index: string;
  readonly holders: string;
  readonly counter: string;
  readonly runs: string;
}

/** The lease scope of one graph on `client` (scripts are registered by the context's ready()). */
export function openLeaseScope(options: {
  client: RedisClient;
  keyPrefix: string;
  graphName: string;
  audit?: AuditOutbox | undefined;
}): LeaseScope {
  const { keyPrefix, graphName } = options;
  const buckets = Array.from(
    { length: THREAD_BUCKETS },
    (_, bucket): LeaseKeys => ({
      index: runLeaseIndexKey(keyPrefix, graphName, bucket),
      holders: runLeaseHoldersKey(keyPrefix, graphName, bucket),
      counter: runLeaseTokenKey(keyPrefix, graphName, bucket),
      runs: runLeaseRunsKey(keyPrefix, graphName, bucket),
    }),
  );
  return {
    ...createRedisContext({ client: options.client, keyPrefix, component: "withRunLease" }),
    graphName,
    audit: options.audit,
    buckets,
    keysOf(member: string): LeaseKeys {
      const run = parseRunLeaseMember(member);
      return buckets[threadBucket(run?.threadId ?? member)] as LeaseKeys;
    },
    queueKeysOf(member: string) {
      const bucket = threadBucket(parseRunLeaseMember(member)?.threadId ?? member);
      return {
        queue: runLeaseQueueKey(keyPrefix, graphName, bucket, member),
        waiters: runLeaseWaitersKey(keyPrefix, graphName, bucket, member),
      };
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
  const keys = scope.keysOf(member);
  if (!scope.audit) return { keys, args };
  const outbox = await scope.audit.stream(keys.index);
  return { keys: { ...keys, outbox }, args: withAuditContext(args, leaseAuditContext(scope, member, owner)) };
}

/**
 * Every span attribute and metric name the library emits. Database semantic-convention names are used where one
 * applies (db.system.name, db.operation.name, error.type, db.client.operation.duration); the rest carry the
 * `langgraph_redis.` prefix. Values are never recorded: ids, sizes, counts and outcomes only.
 */
export const ATTR = {
  dbSystem: "db.system.name",
  operation: "db.operation.name",
  errorType: "error.type",
  outcome: "langgraph_redis.outcome",
  threadId: "langgraph_redis.thread_id",
  namespace: "langgraph_redis.namespace",
  bytes: "langgraph_redis.bytes",
  /** Redis commands (script calls and pipelined calls) the operation sent. */
  commands: "langgraph_redis.commands",
  batchSize: "langgraph_redis.batch.size",
  lockKeys: "langgraph_redis.lock.keys",
  offlineState: "langgraph_redis.offline.state",
  component: "langgraph_redis.component",
} as const;

export const METRIC = {
  /** Histogram (s): every traced operation, by db.operation.name, outcome and error.type. */
  operationDuration: "db.client.operation.duration",
  /** Histogram (s): time a guarded node waited for its locks. */
  lockWait: "langgraph_redis.lock.wait.duration",
  /** Histogram (s): time a guarded node held its locks. */
  lockHold: "langgraph_redis.lock.hold.duration",
  /** Counter: a guarded node found its lock held (each attempt). */
  lockConflicts: "langgraph_redis.lock.conflicts",
  /** Counter: a guarded node lost its lock while running. */
  lockLost: "langgraph_redis.lock.lost",
  /** Counter: store writes refused for a stale fencing token. */
  fencedWrites: "langgraph_redis.store.fenced_writes",
  /** Counter: compare-and-set writes that found another version. */
  versionConflicts: "langgraph_redis.store.version_conflicts",
  /** Counter: runs that lost their lease while running. */
  leasesLost: "langgraph_redis.recovery.leases_lost",
  /** Counter: crashed runs resumed to completion by resumeCrashedRuns. */
  runsResumed: "langgraph_redis.recovery.runs_resumed",
  /** Counter: node cache lookups, by outcome (hit, miss). */
  cacheLookups: "langgraph_redis.cache.lookups",
  /** Histogram (s): audit events, from the write in Redis to their commit in PostgreSQL (startAuditSink). */
  auditLag: "langgraph_redis.audit.lag",
  /** Counter: audit events the sink inserted into PostgreSQL. */
  auditDelivered: "langgraph_redis.audit.delivered",
  /** Counter: audit events read again that PostgreSQL already held (a reclaimed or re-read batch). */
  auditDuplicates: "langgraph_redis.audit.duplicates",
  /** Counter: a saver or store switched between online and offline (attribute langgraph_redis.offline.state). */
  offlineTransitions: "langgraph_redis.offline.transitions",
  /** Counter: writes stored in the offline journal while Redis was unreachable. */
  offlineJournaled: "langgraph_redis.offline.journaled",
  /** Counter: journal records replayed into Redis, by outcome (applied, forked, conflict, rejected). */
  offlineReplayed: "langgraph_redis.offline.replayed",
} as const;

export const INSTRUMENTATION_SCOPE = "langgraph-redis";

export { ACL_COMMANDS, type AclRulesOptions, aclRules } from "./acl.js";
export type { AuditSinkOptions, AuditTrailOptions } from "./audit/options.js";
export type { AuditOption } from "./audit/outbox.js";
export { type AuditPostgres, setupAuditTables } from "./audit/postgres.js";
export { type AuditSink, type AuditSinkStats, startAuditSink } from "./audit/sink.js";
export { type AuditEvent, type AuditTrailPage, auditTrail } from "./audit/trail.js";
export type { RedisCacheOptions, RedisCacheUrlOptions } from "./cache/options.js";
export { RedisCache } from "./cache/redis-cache.js";
export { type ClientFromUrlOptions, clientFromUrl, isCluster, type RedisClient } from "./client.js";
export {
  checkDurability,
  type DurabilityOptions,
  type DurabilityReport,
  type DurabilityWarning,
  type NodePersistence,
  type PersistenceLevel,
} from "./durability.js";
export type { EncryptionOptions } from "./encryption/options.js";
export { EncryptedSerializer, type EncryptedSerializerOptions } from "./encryption/serializer.js";
export {
  AuditError,
  ClockSkewError,
  CorruptCheckpointError,
  CorruptDataError,
  DecompressionLimitError,
  DurabilityError,
  EncryptionError,
  FencedWriteError,
  FenceTokenNotIssuedError,
  InvalidConfigError,
  InvalidInputError,
  InvalidOptionError,
  JournalCorruptError,
  JournalFullError,
  JournalLockedError,
  LangGraphRedisError,
  LockConflictError,
  LockLostError,
  OfflineJournalError,
  OfflineLockError,
  OfflineReadError,
  PlaintextRecordError,
  RedisConnectionError,
  RedisPermissionError,
  RunCancelledError,
  RunLeaseHeldError,
  RunLeaseLostError,
  RunQueueTimeoutError,
  RunsDrainingError,
  TamperedRecordError,
  ThreadExistsError,
  ThreadLeasedError,
  UnknownEncryptionKeyError,
  UnknownFenceLockError,
  UnsupportedServerError,
  ValueTooLargeError,
  VersionConflictError,
} from "./errors.js";
export type { Fence } from "./fencing.js";
export { currentFence } from "./guard/fence.js";
export { type GuardedNode, guarded, type NodeFunction, type NodeRunnable } from "./guard/guarded.js";
export type {
  ConflictContext,
  ConflictDecision,
  ConflictHandler,
  GuardEvents,
  GuardedOptions,
  LockAcquiredEvent,
  LockConflictEvent,
  LockKeyOption,
  LockLostEvent,
  LockReleasedEvent,
} from "./guard/options.js";
export type { OfflineOptions } from "./offline/options.js";
export type {
  OfflineConflict,
  OfflineEvents,
  OfflineState,
  RejectedRecord,
  ReplayResult,
} from "./offline/session.js";
export { type CancelRunResult, cancelRun } from "./recovery/cancel-run.js";
export { type DrainReport, drainOnSignal, drainRuns } from "./recovery/drain-runs.js";
export { findCrashedRuns } from "./recovery/find-crashed-runs.js";
export type {
  CancelRunOptions,
  DrainRunsOptions,
  FindCrashedRunsOptions,
  MultitaskStrategy,
  RecoveryWorkerOptions,
  ResumeCrashedRunsOptions,
  RunLeaseOptions,
} from "./recovery/options.js";
export { resumeCrashedRuns } from "./recovery/resume-crashed-runs.js";
export {
  type RecoveryWorker,
  type RecoveryWorkerStats,
  startRecoveryWorker,
} from "./recovery/start-recovery-worker.js";
export type {
  CrashedRun,
  LeaseHolder,
  ResumeProgress,
  ResumeReport,
  ResumeResult,
  SkipReason,
} from "./recovery/types.js";
export { type LeasableGraph, withRunLease } from "./recovery/with-run-lease.js";
export { isConnectionError, isPermissionError } from "./redis-errors.js";
export type { CopyThreadResult } from "./saver/copy-thread.js";
export type { DeleteForRunsResult } from "./saver/delete-for-runs.js";
export type { RedisSaverOptions, RedisSaverUrlOptions } from "./saver/options.js";
export type { PruneOptions, PruneResult } from "./saver/prune.js";
export { RedisSaver } from "./saver/redis-saver.js";
export type { RetentionOptions } from "./saver/retention.js";
export type { SweepExpiredResult } from "./saver/sweep-expired.js";
export type { ThreadInfo, ThreadRegistryOptions, ThreadStatus } from "./saver/threads/record.js";
export type { ThreadFilter, ThreadSearchPage, ThreadSearchQuery } from "./saver/threads/search.js";
export type { ThreadRegistry } from "./saver/threads/thread-registry.js";
export type { UpdateFn, UpdateOptions, VersionedItem } from "./store/cas.js";
export type { HistoryEntry } from "./store/codec.js";
export type {
  FilterFieldType,
  FilterIndexOptions,
  RedisStoreOptions,
  RedisStoreUrlOptions,
  StoreWriteOptions,
} from "./store/options.js";
export { RedisStore } from "./store/redis-store.js";
export type { ReindexResult } from "./store/reindex.js";
export type { SweepResult } from "./store/ttl.js";

export { ACL_COMMANDS, type AclRulesOptions, aclRules } from "./acl.js";
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
  CorruptCheckpointError,
  CorruptDataError,
  DurabilityError,
  EncryptionError,
  FencedWriteError,
  InvalidConfigError,
  InvalidInputError,
  InvalidOptionError,
  LangGraphRedisError,
  LockConflictError,
  LockLostError,
  PlaintextRecordError,
  RedisConnectionError,
  RedisPermissionError,
  RunLeaseHeldError,
  RunLeaseLostError,
  TamperedRecordError,
  UnknownEncryptionKeyError,
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
export { type CrashedRun, findCrashedRuns } from "./recovery/find.js";
export type { LeaseHolder } from "./recovery/holder.js";
export { type LeasableGraph, withRunLease } from "./recovery/leased-graph.js";
export type {
  FindCrashedRunsOptions,
  RecoveryWorkerOptions,
  ResumeCrashedRunsOptions,
  RunLeaseOptions,
} from "./recovery/options.js";
export {
  type ResumeProgress,
  type ResumeReport,
  type ResumeResult,
  resumeCrashedRuns,
  type SkipReason,
} from "./recovery/resume.js";
export { type RecoveryWorker, type RecoveryWorkerStats, startRecoveryWorker } from "./recovery/worker.js";
export { isConnectionError, isPermissionError } from "./redis-errors.js";
export type { RedisSaverOptions, RedisSaverUrlOptions } from "./saver/options.js";
export { RedisSaver } from "./saver/redis-saver.js";
export type { UpdateFn, UpdateOptions, VersionedItem } from "./store/cas.js";
export type { HistoryEntry } from "./store/codec.js";
export type { RedisStoreOptions, RedisStoreUrlOptions, StoreWriteOptions } from "./store/options.js";
export { RedisStore } from "./store/redis-store.js";
export type { SweepResult } from "./store/ttl.js";

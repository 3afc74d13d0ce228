export { clientFromUrl, isCluster, type RedisClient } from "./client.js";
export {
  CorruptCheckpointError,
  CorruptDataError,
  DurabilityError,
  FencedWriteError,
  InvalidConfigError,
  InvalidInputError,
  InvalidOptionError,
  LangGraphRedisError,
  LockConflictError,
  LockLostError,
  RedisConnectionError,
  RunLeaseHeldError,
  RunLeaseLostError,
  UnsupportedServerError,
  ValueTooLargeError,
  VersionConflictError,
} from "./errors.js";
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

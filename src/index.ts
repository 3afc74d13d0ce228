export { clientFromUrl, isCluster, type RedisClient } from "./client.js";
export { isConnectionError } from "./connection-errors.js";
export {
  checkDurability,
  type DurabilityOptions,
  type DurabilityReport,
  type DurabilityWarning,
  type NodePersistence,
  type PersistenceLevel,
} from "./durability.js";
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
  UnsupportedServerError,
  ValueTooLargeError,
  VersionConflictError,
} from "./errors.js";

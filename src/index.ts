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
  UnsupportedServerError,
  ValueTooLargeError,
  VersionConflictError,
} from "./errors.js";
export type { RedisSaverOptions, RedisSaverUrlOptions } from "./saver/options.js";
export { RedisSaver } from "./saver/redis-saver.js";

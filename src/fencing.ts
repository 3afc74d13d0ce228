/**
 * Fencing tokens, shared by guarded() (which issues them) and RedisStore (which checks them).
 *
 * Each acquisition of a guarded lock key issues a token: INCR of the key's fence counter, so tokens for one lock key
 * only ever increase. A write that carries a `Fence` is rejected with FencedWriteError when its token is older than
 * the newest one issued for that lock key (see docs/guarded.md for how this is checked on Redis Cluster).
 */
export interface Fence {
  /** The lock key as the user named it (e.g. "order:42"), not the Redis key. */
  readonly lockKey: string;
  /** The token issued with the acquisition that this write runs under. */
  readonly token: number;
}

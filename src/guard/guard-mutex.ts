import { Mutex } from "redis-semaphore";
import { type AuditOutbox, withAuditContext } from "../audit/outbox.js";
import type { RedisClient } from "../client.js";
import { lockKey } from "../keys.js";
import { log } from "../log.js";
import { callScript } from "../lua/index.js";
import type { Lease } from "./lease.js";

export interface GuardMutexOptions {
  readonly keyPrefix: string;
  readonly lockTimeoutMs: number;
  readonly refreshIntervalMs: number;
}

/**
 * A redis-semaphore Mutex for one lock name that reports to a Lease.
 *
 * redis-semaphore gives us the acquire attempt (SET NX PX), the refresh timer (unref'd setInterval that renews the
 * TTL only while the value is still our identifier) and release (delete only if still ours). Two of its behaviours
 * are not what a guarded node needs, and this class changes exactly those:
 * - its default onLockLost throws from inside the refresh timer, where nothing can catch it: we pass a callback that
 *   marks the lease lost instead;
 * - a refresh that fails with a connection error rejects inside that timer (an unhandled rejection, which ends a
 *   Node process by default) and never reports a loss: we catch it here and leave the verdict to the lease's
 *   deadline, so a Redis that stays unreachable for lockTimeoutMs loses the lock, and a short blip does not.
 */
export class GuardMutex extends Mutex {
  /** The key this mutex writes: our lockKey, so it starts with the key prefix (ACL `~prefix*`, tenants). */
  readonly redisKey: string;
  /** Set by guarded() when it audits: the release then also records lock.released, in the same script. */
  audit: { readonly outbox: AuditOutbox; readonly context: Record<string, unknown> } | undefined;

  constructor(
    client: RedisClient,
    readonly lockName: string,
    options: GuardMutexOptions,
    private readonly lease: Lease,
  ) {
    super(client as unknown as ConstructorParameters<typeof Mutex>[0], lockKey(options.keyPrefix, lockName), {
      lockTimeout: options.lockTimeoutMs,
      refreshInterval: options.refreshIntervalMs,
      // tryAcquire makes one attempt (SET NX) with no pause after it: guarded() waits and retries on its own
      // monotonic clock (acquire.ts), as redis-semaphore's loop bounds its wait with the wall clock.
      acquireTimeout: 60_000,
      retryInterval: 0,
      acquireAttemptsLimit: 1,
      onLockLost: () => lease.lose("another holder has it now, or it expired before a refresh reached Redis"),
    });
    // redis-semaphore names the key `mutex:<name>`, outside our prefix; every operation it runs reads `_key`, so
    // setting it here keeps all lock keys under the prefix.
    this._key = lockKey(options.keyPrefix, lockName);
    this.redisKey = this._key;
  }

  protected override async _release(): Promise<void> {
    if (!this.audit) return super._release();
    const outbox = await this.audit.outbox.stream(this.redisKey);
    await callScript(
      this._client as unknown as RedisClient,
      "guardReleaseLockAudited",
      { mutex: this.redisKey, outbox },
      withAuditContext([this.identifier] as [string], this.audit.context),
    );
  }

  protected override async _refresh(): Promise<boolean> {
    const sentAt = performance.now();
    try {
      const held = await super._refresh();
      if (held) this.lease.renewed(this.lockName, sentAt);
      return held;
    } catch (error) {
      log("guarded: refresh of a lock failed (%s); the lease deadline decides", errorName(error));
      // Keep the timer running: the next refresh may get through before the lease deadline passes.
      return true;
    }
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

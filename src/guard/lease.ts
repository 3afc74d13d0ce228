import { LockLostError } from "../errors.js";
import { log } from "../log.js";

/**
 * The holder's own view of how long its locks are surely still held.
 *
 * Each command that renews a lock (the fence script, each refresh) moves that lock's local deadline to the moment
 * the command was sent plus `lockTimeoutMs`, less a margin for clock drift: Redis starts the TTL later than we sent
 * the command, so the key cannot expire before that deadline. A watchdog timer fires at the earliest deadline; if
 * no refresh has moved it by then (Redis unreachable, answers too slow, this process was paused), the lock counts as
 * lost even though Redis never said so. A refresh that finds the lock gone (expired, or taken over) loses it at once.
 *
 * Losing aborts `signal` (handed to the node) and settles `lost`; it happens once and never throws.
 */
export class Lease {
  readonly #controller = new AbortController();
  readonly #deadlines = new Map<string, number>();
  readonly #driftMs: number;
  #watchdog: NodeJS.Timeout | undefined;
  #state: "acquiring" | "held" | "lost" | "ended" = "acquiring";
  #lostError: LockLostError | undefined;
  #acquiredAt = 0;
  #settleLost: (error: LockLostError) => void = () => {};
  /** Settles (never rejects) with the error once the lease is lost. */
  readonly lost: Promise<LockLostError>;

  readonly #lockTimeoutMs: number;
  readonly #onLost: (error: LockLostError, heldMs: number) => void;

  constructor(
    readonly lockKeys: readonly string[],
    lockTimeoutMs: number,
    onLost: (error: LockLostError, heldMs: number) => void,
  ) {
    this.#lockTimeoutMs = lockTimeoutMs;
    this.#onLost = onLost;
    this.#driftMs = Math.round(lockTimeoutMs * 0.01) + 2;
    this.lost = new Promise((resolve) => {
      this.#settleLost = resolve;
    });
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get isLost(): boolean {
    return this.#state === "lost";
  }

  get error(): LockLostError | undefined {
    return this.#lostError;
  }

  get heldMs(): number {
    return this.#acquiredAt === 0 ? 0 : Math.round(performance.now() - this.#acquiredAt);
  }

  /** A command sent at `sentAt` (performance.now()) renewed `lockKey` for lockTimeoutMs and Redis confirmed it. */
  renewed(lockKey: string, sentAt: number): void {
    const deadline = sentAt + this.#lockTimeoutMs - this.#driftMs;
    if (deadline > (this.#deadlines.get(lockKey) ?? Number.NEGATIVE_INFINITY)) this.#deadlines.set(lockKey, deadline);
    if (this.#state === "held") this.#arm();
  }

  /** Every lock is taken and fenced: from now on the deadlines are watched. */
  start(): void {
    if (this.#state !== "acquiring") return;
    this.#state = "held";
    this.#acquiredAt = performance.now();
    this.#arm();
  }

  /** True while every lock is surely held: not lost, and no deadline has passed. */
  isValid(): boolean {
    if (this.#state !== "held") return false;
    return performance.now() < this.#earliestDeadline();
  }

  /** Marks the lease lost (idempotent). Safe to call from timers: never throws. */
  lose(reason: string, cause?: unknown): void {
    if (this.#state === "lost" || this.#state === "ended") return;
    this.#state = "lost";
    this.#disarm();
    const keys = this.lockKeys.map((k) => `"${k}"`).join(", ");
    const error = new LockLostError(this.lockKeys, `Lock on ${keys} was lost: ${reason}`, { cause });
    this.#lostError = error;
    this.#settleLost(error);
    try {
      this.#controller.abort(error);
    } catch (abortError) {
      // An abort listener of the node threw; the loss itself still stands.
      log("guarded: an abort listener threw %s", abortError instanceof Error ? abortError.name : typeof abortError);
    }
    this.#onLost(error, this.heldMs);
  }

  /** The node is done (or never ran): stop watching. */
  end(): void {
    if (this.#state !== "lost") this.#state = "ended";
    this.#disarm();
  }

  #earliestDeadline(): number {
    let earliest = Number.POSITIVE_INFINITY;
    for (const key of this.lockKeys)
      earliest = Math.min(earliest, this.#deadlines.get(key) ?? Number.NEGATIVE_INFINITY);
    return earliest;
  }

  #arm(): void {
    this.#disarm();
    const delayMs = Math.max(0, this.#earliestDeadline() - performance.now());
    this.#watchdog = setTimeout(() => this.#expire(), Math.min(delayMs, 2 ** 31 - 1));
    this.#watchdog.unref();
  }

  #expire(): void {
    this.#watchdog = undefined;
    if (this.#state !== "held") return;
    if (this.isValid()) {
      this.#arm();
      return;
    }
    this.lose(
      `no refresh succeeded within lockTimeoutMs (${this.#lockTimeoutMs} ms): Redis unreachable or too slow, or this process was paused`,
    );
  }

  #disarm(): void {
    if (this.#watchdog !== undefined) clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
  }
}

import { randomUUID } from "node:crypto";
import { recordAuditEvent } from "../../audit/record.js";
import {
  ClaimLostError,
  RunCancelledError,
  RunLeaseHeldError,
  RunLeaseLostError,
  RunQueueTimeoutError,
} from "../../errors.js";
import { runLeaseMember } from "../../keys.js";
import { log } from "../../log.js";
import { isConnectionError } from "../../redis-errors.js";
import { countEvent } from "../../telemetry/index.js";
import type { LeaseTimings, RunRef } from "../types.js";
import { abandonLease } from "./abandon-lease.js";
import { acquireLease } from "./acquire-lease.js";
import { enqueueLease } from "./enqueue-lease.js";
import { type LeaseScope, leaseAuditContext } from "./lease-scope.js";
import { releaseLease } from "./release-lease.js";
import { renewLease } from "./renew-lease.js";

export type { LeaseTimings, RunRef } from "../types.js";

/**
 * The lease one run holds while it executes. A heartbeat timer (unref'd, so it never keeps a process alive)
 * renews it every heartbeatMs for as long as the run lives, however long a node takes. `signal` aborts when the
 * lease is lost: another holder took the run over, or it could not be renewed for a whole leaseMs.
 */
export class RunLease {
  readonly #controller = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #released = false;
  #takenOver = false;
  #cancelled: "interrupt" | "rollback" | undefined;
  #beating: Promise<void> | undefined;
  /** performance.now() when the last renewal was sent: monotonic, so a step of the wall clock (an NTP correction)
   * neither ends the lease early nor hides its loss. */
  #lastRenewedMs: number;

  readonly #scope: LeaseScope;
  readonly #member: string;
  readonly #timings: LeaseTimings;
  /** The run keeps going on an offline journal: an unreachable Redis does not end its lease (docs/offline.md). */
  #ridesOutages = false;
  #token: number;
  #onRenewed: ((token: number) => Promise<unknown>) | undefined;

  /** The lease token (a run that rode out an outage on which Redis lost its lease takes a new one). */
  get token(): number {
    return this.#token;
  }

  private constructor(
    scope: LeaseScope,
    member: string,
    readonly run: RunRef,
    token: number,
    readonly runId: string,
    timings: LeaseTimings,
    startedMs: number,
  ) {
    this.#token = token;
    this.#scope = scope;
    this.#member = member;
    this.#timings = timings;
    this.#lastRenewedMs = startedMs;
    this.#schedule();
  }

  /**
   * Takes the run's lease (or converts the caller's claim with `claimToken`). Throws RunLeaseHeldError when a live
   * run holds it, ClaimLostError when the claim is no longer the caller's, and RedisConnectionError or
   * RedisPermissionError when Redis cannot be reached or the ACL refuses.
   */
  static async acquire(
    scope: LeaseScope,
    run: RunRef,
    timings: LeaseTimings,
    claimToken = 0,
    runId = "",
  ): Promise<RunLease> {
    const member = runLeaseMember(run.threadId, run.checkpointNs);
    const sentMs = performance.now();
    const result = await acquireLease(scope, member, timings.owner, timings.leaseMs, claimToken, runId);
    if (result.acquired) {
      if (result.replaced) {
        log("run lease: thread %j taken over from expired holder %s", run.threadId, result.replaced.owner);
      }
      return new RunLease(scope, member, run, result.token, runId, timings, sentMs);
    }
    if (result.reason === "claim-lost") throw new ClaimLostError("the claim on this run was taken over");
    throw new RunLeaseHeldError(
      run.threadId,
      run.checkpointNs,
      result.holder?.owner ?? "unknown",
      new Date(result.expiresAtMs),
    );
  }

  /**
   * The "enqueue" strategy: waits in the run's FIFO queue (in Redis, shared by every process) until the runs before
   * it are done, then holds the lease. Looks again with a backoff from 20 ms up to heartbeatMs; each look keeps its
   * place alive for leaseMs, so the place of a waiter whose process died is skipped leaseMs after its last look.
   * Throws RunQueueTimeoutError after `waitMs` (leaving the queue), or the signal's reason when it aborts.
   */
  static async enqueue(
    scope: LeaseScope,
    run: RunRef,
    timings: LeaseTimings,
    runId: string,
    wait: { waitMs: number; signal?: AbortSignal | undefined },
  ): Promise<RunLease> {
    const member = runLeaseMember(run.threadId, run.checkpointNs);
    const waiterId = randomUUID();
    const step = { owner: timings.owner, leaseMs: timings.leaseMs, runId, waiterId, staleMs: timings.leaseMs };
    const startedMs = performance.now();
    const leave = () => enqueueLease(scope, member, { ...step, mode: "leave" }).catch(() => undefined);
    let pauseMs = 20;
    let position = 0;
    wait.signal?.throwIfAborted();
    for (;;) {
      const sentMs = performance.now();
      const result = await enqueueLease(scope, member, { ...step, mode: "wait" });
      if (result.acquired) {
        if (result.replaced) {
          log("run lease: thread %j taken over from expired holder %s", run.threadId, result.replaced.owner);
        }
        return new RunLease(scope, member, run, result.token, runId, timings, sentMs);
      }
      if (result.queued) position = result.position;
      const leftMs = startedMs + wait.waitMs - performance.now();
      if (leftMs <= 0 || wait.signal?.aborted) {
        await leave();
        wait.signal?.throwIfAborted();
        throw new RunQueueTimeoutError(run.threadId, run.checkpointNs, wait.waitMs, position);
      }
      await pause(Math.min(pauseMs, leftMs), wait.signal);
      if (wait.signal?.aborted) {
        await leave();
        wait.signal.throwIfAborted();
      }
      pauseMs = Math.min(pauseMs * 2, timings.heartbeatMs);
    }
  }

  /**
   * Calls `listener` after each renewal of the lease (a heartbeat, or a revalidation), with the lease token, in the
   * background: withRunLease keeps the run's live mark on its thread alive this way. A failure is logged and ignored
   * (the mark then lapses a lease period later, as the lease would without heartbeats).
   */
  onRenewed(listener: (token: number) => Promise<unknown>): void {
    this.#onRenewed = listener;
  }

  #renewed(sentMs: number): void {
    this.#lastRenewedMs = sentMs;
    this.#onRenewed?.(this.#token).catch((error: unknown) =>
      log("run lease: thread %j: refreshing the run's live mark failed: %s", this.run.threadId, String(error)),
    );
  }

  /**
   * The run's checkpointer journals through outages: heartbeats that cannot reach Redis no longer end the lease;
   * revalidate() checks it once Redis answers, before the journal is replayed.
   */
  rideOutages(): void {
    this.#ridesOutages = true;
  }

  /**
   * Renews the lease now (Redis just came back): an expired lease nobody took over is extended; one taken over (or
   * gone) is lost, which aborts the run. Throws when Redis is unreachable again.
   */
  async revalidate(): Promise<void> {
    if (this.#released || this.lost) return;
    const sentMs = performance.now();
    const result = await renewLease(this.#scope, this.#member, this.token, this.#timings.leaseMs);
    if (this.#released || this.lost) return;
    if (result.renewed) {
      this.#renewed(sentMs);
      return;
    }
    if (!result.holder) {
      // The entry is gone: Redis restarted without it, or a recoverer finished the run. Take the lease again; if a
      // recoverer ran the thread meanwhile it raised the run's fence, and the replay forks the offline writes.
      const again = await acquireLease(
        this.#scope,
        this.#member,
        this.#timings.owner,
        this.#timings.leaseMs,
        0,
        this.runId,
      );
      if (again.acquired) {
        log("run lease: thread %j took its lease again after an outage", this.run.threadId);
        this.#token = again.token;
        this.#lastRenewedMs = sentMs;
        return;
      }
    }
    if (result.holder) this.#takenOver = true;
    this.#lose(
      result.holder
        ? `its lease was taken over while Redis was unreachable (now held by ${result.holder.kind} of ${JSON.stringify(result.holder.owner)})`
        : "its lease entry was gone when Redis answered again",
    );
  }

  /** Aborts when the lease is lost (reason: RunLeaseLostError) or the run is cancelled (RunCancelledError). */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The lease was lost (not cancelled): the run is left to the recoverers. */
  get lost(): boolean {
    return this.#controller.signal.aborted && this.#cancelled === undefined;
  }

  /** The run was cancelled (cancelRun, or a newer run's strategy), and how. */
  get cancelled(): "interrupt" | "rollback" | undefined {
    return this.#cancelled;
  }

  /** The run ended early (lost or cancelled): what it was aborted with. */
  get stopReason(): unknown {
    return this.#controller.signal.aborted ? this.#controller.signal.reason : undefined;
  }

  /**
   * Stops the heartbeat and removes the lease, once the run has ended. A lease lost without being taken over (it
   * could not be renewed in time, and the run was aborted) is instead marked expired now, so recovery resumes the
   * run at once. With `handOff` (a run drained at a step boundary, for another process to continue) the entry is
   * marked expired now the same way. Never throws: an entry left behind just expires.
   */
  async release(handOff = false): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    clearTimeout(this.#timer);
    await this.#beating;
    if (this.#takenOver) return;
    // Bounded: the run has ended, and its caller must not wait on a Redis that does not answer.
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.#timings.leaseMs);
      timer.unref();
    });
    try {
      const ending =
        this.lost || handOff
          ? abandonLease(this.#scope, this.#member, this.token, this.#timings.owner)
          : releaseLease(this.#scope, this.#member, this.token);
      ending.catch(() => {}); // a late failure after giving up is expected; the entry just expires
      if ((await Promise.race([ending, giveUp])) === "timeout") {
        log("run lease: release of thread %j timed out, it will expire", this.run.threadId);
      }
    } catch (error) {
      log("run lease: release of thread %j failed, it will expire: %s", this.run.threadId, String(error));
    } finally {
      clearTimeout(timer);
    }
  }

  #schedule(): void {
    // A cancelled run keeps its lease alive until it has stopped and released it.
    if (this.#released || this.lost) return;
    this.#timer = setTimeout(() => {
      this.#beating = this.#beat();
    }, this.#timings.heartbeatMs);
    this.#timer.unref();
  }

  async #beat(): Promise<void> {
    const sentMs = performance.now();
    // A heartbeat that hangs (a connection that neither answers nor fails) must not outlive the lease.
    const remainingMs = Math.max(0, this.#lastRenewedMs + this.#timings.leaseMs - sentMs);
    let watchdog: NodeJS.Timeout | undefined;
    const expired = new Promise<"expired">((resolve) => {
      watchdog = setTimeout(() => resolve("expired"), remainingMs);
      watchdog.unref();
    });
    try {
      const renewal = renewLease(this.#scope, this.#member, this.token, this.#timings.leaseMs);
      const result = await Promise.race([renewal, expired]);
      if (this.#released) return;
      if (result === "expired") {
        if (this.#ridesOutages) {
          log("run lease: thread %j: Redis unreachable, the run goes on offline", this.run.threadId);
          renewal.catch(() => undefined);
        } else {
          this.#lose(`its lease could not be renewed within ${this.#timings.leaseMs} ms`);
          return;
        }
      } else {
        if (!result.renewed) {
          if (result.holder) {
            this.#takenOver = true;
            this.#lose(
              `its lease was taken over (now held by ${result.holder.kind} of ${JSON.stringify(result.holder.owner)})`,
            );
          } else {
            // Released by a recoverer that resumed and finished the run, or removed as stale: never put back as live.
            // release() marks it expired again, so recovery looks at the thread (and prunes it if it is finished).
            this.#lose("its lease entry is gone (a recoverer finished the run, or it was removed as stale)");
          }
          return;
        }
        this.#renewed(sentMs);
        if ("cancel" in result && result.cancel !== undefined && this.#cancelled === undefined) {
          this.#cancel(result.cancel);
        }
      }
    } catch (error) {
      if (this.#released) return;
      if (this.#ridesOutages && isConnectionError(error)) {
        log("run lease: thread %j: Redis unreachable, the run goes on offline", this.run.threadId);
      } else if (performance.now() - this.#lastRenewedMs >= this.#timings.leaseMs) {
        this.#lose(`its lease could not be renewed within ${this.#timings.leaseMs} ms`, error);
        return;
      }
      log("run lease: heartbeat of thread %j failed, retrying: %s", this.run.threadId, String(error));
    } finally {
      clearTimeout(watchdog);
    }
    this.#schedule();
  }

  /** Stops the run at cancelRun's request: the signal aborts; release() then ends the lease normally. */
  #cancel(action: "interrupt" | "rollback"): void {
    const { threadId, checkpointNs } = this.run;
    log("run lease: the run on thread %j was cancelled (%s)", threadId, action);
    this.#cancelled = action;
    this.#controller.abort(new RunCancelledError(threadId, checkpointNs, action));
  }

  #lose(why: string, cause?: unknown): void {
    const { threadId, checkpointNs } = this.run;
    log("run lease: thread %j lost its lease: %s", threadId, why);
    countEvent("leasesLost");
    const error = new RunLeaseLostError(
      threadId,
      checkpointNs,
      `The run on thread ${JSON.stringify(threadId)} was aborted: ${why}`,
      cause === undefined ? undefined : { cause },
    );
    this.#controller.abort(error);
    const audit = this.#scope.audit;
    if (audit) {
      // A lost lease is an observation, not a write: recorded on its own, in the background.
      recordAuditEvent(this.#scope.client, audit, this.#scope.keysOf(this.#member).index, "lease.lost", {
        ...leaseAuditContext(this.#scope, this.#member, this.#timings.owner),
        why,
      }).catch((failure: unknown) => log("run lease: recording a lost lease failed: %s", String(failure)));
    }
  }
}

/** Waits `ms`, or less when `signal` aborts (the caller then looks at the signal). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

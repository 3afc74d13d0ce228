import { log } from "../log.js";
import { countEvent, recordDuration } from "../telemetry/index.js";
import { ATTR } from "../telemetry/names.js";
import type { GuardEvents } from "./options.js";

/**
 * Calls one event callback. Callbacks are for metrics: whatever they throw (or a promise they return rejects with)
 * is logged and dropped, so a faulty metrics hook can neither fail a node nor escape from a timer unhandled.
 */
export function emit<K extends keyof GuardEvents>(
  events: GuardEvents,
  name: K,
  event: Parameters<NonNullable<GuardEvents[K]>>[0],
): void {
  record(name, event);
  const callback = events[name] as ((event: unknown) => unknown) | undefined;
  if (callback === undefined) return;
  try {
    const result = callback(event);
    if (result instanceof Promise) result.catch((error: unknown) => logCallbackError(name, error));
  } catch (error) {
    logCallbackError(name, error);
  }
}

/** Telemetry from the same events the callbacks get: wait and hold times, conflicts, lost locks. */
function record<K extends keyof GuardEvents>(name: K, event: Parameters<NonNullable<GuardEvents[K]>>[0]): void {
  const e = event as { lockKeys?: readonly string[]; waitedMs?: number; heldMs?: number; outcome?: string };
  const attributes = { [ATTR.lockKeys]: e.lockKeys?.length ?? 0 };
  if (name === "onAcquired") recordDuration("lockWait", e.waitedMs ?? 0, attributes);
  else if (name === "onConflict") countEvent("lockConflicts", attributes);
  else if (name === "onLost") countEvent("lockLost", attributes);
  else if (name === "onReleased")
    recordDuration("lockHold", e.heldMs ?? 0, { ...attributes, [ATTR.outcome]: e.outcome ?? "" });
}

function logCallbackError(name: string, error: unknown): void {
  log("guarded: %s callback threw %s", name, error instanceof Error ? error.name : typeof error);
}

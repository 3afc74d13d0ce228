import { log } from "../log.js";
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
  const callback = events[name] as ((event: unknown) => unknown) | undefined;
  if (callback === undefined) return;
  try {
    const result = callback(event);
    if (result instanceof Promise) result.catch((error: unknown) => logCallbackError(name, error));
  } catch (error) {
    logCallbackError(name, error);
  }
}

function logCallbackError(name: string, error: unknown): void {
  log("guarded: %s callback threw %s", name, error instanceof Error ? error.name : typeof error);
}

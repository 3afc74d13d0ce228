/**
 * The offline members RedisSaver and RedisStore both expose (offlineState, offlinePendingRecords, on/off,
 * replayOffline): each class keeps its documented public method and delegates here, so the two answer alike without
 * the `offline` option and with it (docs/offline.md).
 */
import type { OfflineEvents, OfflineSession, OfflineState, ReplayResult } from "./session.js";

/** What a class with the `offline` option holds: its session, and optionally work to await before a replay. */
export interface OfflineHolder {
  readonly session: OfflineSession;
  ready?(): Promise<void>;
}

/** "online" without the `offline` option; else the session's state. */
export function offlineStateOf(offline: OfflineHolder | undefined): OfflineState {
  return offline?.session.state ?? "online";
}

/** Journal records not yet replayed; 0 without the `offline` option. */
export function offlinePendingOf(offline: OfflineHolder | undefined): number {
  return offline?.session.pendingRecords.length ?? 0;
}

/** Adds or removes a listener of the session's events; nothing without the `offline` option. */
export function listenOffline<E extends keyof OfflineEvents>(
  offline: OfflineHolder | undefined,
  method: "on" | "off",
  event: E,
  listener: (...args: OfflineEvents[E]) => void,
): void {
  offline?.session.events[method](event, listener as never);
}

/** Replays the journal now; without the `offline` option resolves at once with nothing replayed. */
export async function replayOfflineOf(offline: OfflineHolder | undefined): Promise<ReplayResult> {
  if (offline === undefined) {
    return { applied: 0, forked: 0, conflicts: [], rejected: [], corruption: undefined, durationMs: 0 };
  }
  await offline.ready?.();
  return offline.session.replay();
}

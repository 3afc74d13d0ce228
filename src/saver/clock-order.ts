/**
 * LangGraph makes a checkpoint's id (a version 6 UUID) from the clock of the process that makes it, and every reader
 * (LangGraph itself, getTuple without an id, list(), retention) takes a thread's newest id as its latest checkpoint.
 * A process whose clock is behind the one that wrote the parent (a run resumed on another host, a clock set back)
 * makes ids that sort before the parent's: its checkpoints would be stored but never read as the thread's latest, so
 * its run's progress would be lost to every later reader. put() refuses such a checkpoint instead.
 */
import { ClockSkewError } from "../errors.js";
import { uuid6Ms } from "./record-derived.js";

/** time_high, time_mid, then the version digit and time_low: as text, these order version 6 UUIDs by time. */
const UUID6_TIME_CHARS = 18;

/**
 * How far (ms, at least 0) a checkpoint's id was made before its parent's, or undefined when it was not: ids in
 * order, ids that are not LangGraph's (they say nothing about time), or two made in the same 100 ns (those order by
 * their random bits).
 */
export function madeBeforeParent(checkpointId: string, parentId: string | null | undefined): number | undefined {
  // Ids in order (every put of a healthy fleet) cost this one comparison.
  if (parentId == null || !(checkpointId < parentId)) return undefined;
  const madeMs = uuid6Ms(checkpointId);
  const parentMs = uuid6Ms(parentId);
  if (madeMs === undefined || parentMs === undefined) return undefined;
  if (checkpointId.slice(0, UUID6_TIME_CHARS) >= parentId.slice(0, UUID6_TIME_CHARS)) return undefined;
  return Math.max(parentMs - madeMs, 0);
}

/** Throws ClockSkewError when the checkpoint's id was made before its parent's (madeBeforeParent). */
export function requireClockOrder(threadId: string, ns: string, checkpointId: string, parentId: string | undefined) {
  const behindMs = madeBeforeParent(checkpointId, parentId);
  if (behindMs !== undefined) throw new ClockSkewError(threadId, ns, checkpointId, parentId as string, behindMs);
}

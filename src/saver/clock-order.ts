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

/** Throws ClockSkewError when both ids are LangGraph's and the checkpoint's was made before its parent's. */
export function requireClockOrder(threadId: string, ns: string, checkpointId: string, parentId: string | undefined) {
  // Ids in order (every put of a healthy fleet) cost this one comparison.
  if (parentId === undefined || !(checkpointId < parentId)) return;
  const madeMs = uuid6Ms(checkpointId);
  const parentMs = uuid6Ms(parentId);
  // Ids that are not LangGraph's say nothing about time; two made in the same 100 ns order by their random bits.
  if (madeMs === undefined || parentMs === undefined) return;
  if (checkpointId.slice(0, UUID6_TIME_CHARS) >= parentId.slice(0, UUID6_TIME_CHARS)) return;
  throw new ClockSkewError(threadId, ns, checkpointId, parentId, Math.max(parentMs - madeMs, 0));
}

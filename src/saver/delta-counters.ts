/**
 * LangGraph's count, in a checkpoint's metadata (`counters_since_delta_snapshot`), of each DeltaChannel's updates
 * and steps since its last snapshot, `channel -> [updates, steps]`. The one place that reads it: put (which channels
 * are left to history), the offline saver (whether a history it built is whole) and the inspector.
 */
import type { CheckpointMetadata } from "@langchain/langgraph-checkpoint";

/** The counters by channel; undefined when the metadata has none (no DeltaChannel, or not counted). */
export function deltaSnapshotCounters(metadata: CheckpointMetadata | undefined): Record<string, unknown> | undefined {
  const counters = (metadata as { counters_since_delta_snapshot?: unknown } | undefined)?.counters_since_delta_snapshot;
  return counters !== null && typeof counters === "object" ? (counters as Record<string, unknown>) : undefined;
}

/** A channel's updates since its last snapshot; undefined when the metadata does not count it. */
export function updatesSinceSnapshot(metadata: CheckpointMetadata | undefined, channel: string): number | undefined {
  const count = deltaSnapshotCounters(metadata)?.[channel];
  return Array.isArray(count) && typeof count[0] === "number" ? count[0] : undefined;
}

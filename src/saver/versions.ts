/**
 * Channel versions: the integer LangGraph would use (one more than the current one) plus a random fraction.
 *
 * Blobs are stored once per (channel, version). With plain integers, a run forked from an old checkpoint (time
 * travel, updateState on a past checkpoint) would give its first new value the same version the original branch
 * already used for a different value, and one branch would read the other's value. The fraction makes versions
 * unique per value while keeping them numbers that only grow (LangGraph compares versions with `>`).
 */
export function nextChannelVersion(current: number | string | undefined): number {
  let base = 0;
  if (typeof current === "number" && Number.isFinite(current)) base = Math.floor(current);
  else if (typeof current === "string") base = Math.floor(Number.parseFloat(current)) || 0;
  return base + 1 + Math.random();
}

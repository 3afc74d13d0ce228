/**
 * Channel versions: the integer LangGraph would use (one more than the current one) plus a random fraction of
 * nine decimal digits.
 *
 * Blobs are stored once per (channel, version). With plain integers, a run forked from an old checkpoint (time
 * travel, updateState on a past checkpoint) would give its first new value the same version the original branch
 * already used for a different value, and one branch would read the other's value. The fraction makes versions
 * unique per value (two forks of one channel at one step collide with a chance of one in a billion) while keeping
 * them numbers that only grow (LangGraph compares versions with `>`). Nine digits rather than Math.random()'s
 * sixteen or so: each version is stored several times per checkpoint (channel_versions, versions_seen, the refs,
 * the blob field), so its length is memory.
 */
const FRACTION_DIGITS = 1e9;

/** Above this integer part, base * 1e9 + fraction no longer fits a double exactly. */
const MAX_SHORT_BASE = Math.floor(Number.MAX_SAFE_INTEGER / FRACTION_DIGITS) - 1;

export function nextChannelVersion(current: number | string | undefined): number {
  let base = 0;
  if (typeof current === "number" && Number.isFinite(current)) base = Math.floor(current);
  else if (typeof current === "string") base = Math.floor(Number.parseFloat(current)) || 0;
  const next = base + 1;
  if (next < 0 || next > MAX_SHORT_BASE) return next + Math.random();
  // An exact integer divided by 1e9 is the double nearest that decimal, so it prints with at most nine decimals.
  return (next * FRACTION_DIGITS + Math.floor(Math.random() * FRACTION_DIGITS)) / FRACTION_DIGITS;
}

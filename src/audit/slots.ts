/**
 * For each Redis Cluster slot, a short hash tag that hashes to it, so an audit outbox stream can be placed in the
 * slot of the write it records.
 */
import { keySlot } from "../routing.js";

export { keySlot };

const tags = new Map<number, string>();

/**
 * The first string in the sequence "0", "1", ..., "z", "10", ... (base 36) whose slot is `slot`: deterministic, so
 * every process picks the same stream for a slot. About 16,000 candidates are tried once per slot, then remembered.
 */
export function slotTag(slot: number): string {
  const known = tags.get(slot);
  if (known !== undefined) return known;
  for (let n = 0; ; n++) {
    const candidate = n.toString(36);
    if (keySlot(candidate) === slot) {
      tags.set(slot, candidate);
      return candidate;
    }
  }
}

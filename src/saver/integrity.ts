/**
 * Cross-checks between the parts of one stored checkpoint, so bytes planted under a thread's keys that still decode
 * (an empty refs line, another checkpoint's record) are reported as corrupt instead of read as a different state.
 */
import type { Checkpoint } from "@langchain/langgraph-checkpoint";
import { CorruptCheckpointError } from "../errors.js";

/**
 * The checkpoint record must be the one its hash field names, and its refs (which blobs make up its channel values,
 * stored in the same record) must list exactly its channel_versions: put() writes both from the same checkpoint.
 * `label` is built only on failure.
 */
export function requireConsistentCheckpoint(
  keys: { checkpoints: string },
  label: () => string,
  checkpointId: string,
  checkpoint: Checkpoint,
  refChannels: readonly (readonly [string, string])[],
): void {
  if (checkpoint.id !== checkpointId) {
    throw new CorruptCheckpointError(
      keys.checkpoints,
      `${label()} holds the record of another checkpoint (${JSON.stringify(checkpoint.id)})`,
    );
  }
  const versions = checkpoint.channel_versions;
  const expected = Object.entries(versions !== null && typeof versions === "object" ? versions : {})
    .map(([channel, version]) => `${channel}\0${String(version)}`)
    .sort();
  const actual = refChannels.map(([channel, version]) => `${channel}\0${version}`).sort();
  if (expected.length !== actual.length || expected.some((entry, i) => entry !== actual[i])) {
    throw new CorruptCheckpointError(
      keys.checkpoints,
      `the channel list of ${label()} does not match its channel versions`,
    );
  }
}

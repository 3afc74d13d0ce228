import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";
import { InvalidInputError, ValueTooLargeError } from "../errors.js";
import { nestingDepth } from "../value-checks.js";

/**
 * Checkpoint values are checked before they are written, so a value that could not be read back is refused with a
 * named error and nothing is written (instead of a write that succeeds and a read that fails for ever).
 */

/** Deepest nesting a checkpoint value may have. LangGraph's serializer revives values recursively and can exhaust
 * the stack from about 2,000 levels (depending on the stack already in use), so it is refused well before. */
export const MAX_CHECKPOINT_VALUE_DEPTH = 500;

/**
 * Serialises a checkpoint value with the saver's serializer, refusing with InvalidInputError (nothing written) a
 * value the serializer fails on or could not read back: a bare function or symbol (serialised as nothing) and
 * values nested deeper than MAX_CHECKPOINT_VALUE_DEPTH; and with ValueTooLargeError one whose serialised form is
 * larger than `maxBytes`. `describe` names the value in the message; it is called only when something is refused,
 * so the hot path builds no strings.
 */
export async function dumpCheckpointValue(
  serde: SerializerProtocol,
  value: unknown,
  describe: () => string,
  maxBytes: number = Number.POSITIVE_INFINITY,
): Promise<[string, Uint8Array]> {
  if (typeof value === "function" || typeof value === "symbol") {
    throw new InvalidInputError(`${describe()} is a ${typeof value}, which cannot be serialised; nothing was written`);
  }
  let dumped: [string, Uint8Array];
  try {
    dumped = await serde.dumpsTyped(value);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidInputError(`${describe()} cannot be serialised (${reason}); nothing was written`, {
      cause: error,
    });
  }
  if (dumped[1].byteLength > maxBytes) throw new ValueTooLargeError(describe(), dumped[1].byteLength, maxBytes);
  // nesting of depth d takes at least 2d bytes, so only large values need the walk
  if (dumped[1].byteLength >= 2 * MAX_CHECKPOINT_VALUE_DEPTH) {
    if (nestingDepth(value, MAX_CHECKPOINT_VALUE_DEPTH) > MAX_CHECKPOINT_VALUE_DEPTH) {
      throw new InvalidInputError(
        `${describe()} is nested more than ${MAX_CHECKPOINT_VALUE_DEPTH} levels deep, which the serializer cannot read ` +
          "back reliably; nothing was written",
      );
    }
  }
  return dumped;
}

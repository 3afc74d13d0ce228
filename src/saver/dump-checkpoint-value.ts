import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";
import { InvalidInputError, ValueTooLargeError } from "../errors.js";
import { childPath, isContainer, nestingDepth } from "../value-checks.js";
import { dumpJsonValue } from "./json-dump.js";
import { isPlainJsonPlus } from "./json-revive.js";
import { MESSAGE_TOKENS_TYPE, tokenizeBytes } from "./message-tokens.js";

/**
 * Checkpoint values are checked before they are written, so a value that could not be read back is refused with a
 * named error and nothing is written (instead of a write that succeeds and a read that fails for ever).
 */

/** Deepest nesting a checkpoint value may have. LangGraph's serializer revives values recursively and can exhaust
 * the stack from about 2,000 levels (depending on the stack already in use), so it is refused well before. */
export const MAX_CHECKPOINT_VALUE_DEPTH = 500;

/**
 * What LangGraph's JsonPlusSerializer writes, instead of throwing, when JSON.stringify throws on a value (a BigInt
 * anywhere in it, a toJSON that throws): the whole value becomes this one string, and reads back as it.
 */
const UNSERIALISABLE_TEXT = "[unable to serialize, circular reference is too complex to analyze]";
const UNSERIALISABLE_BYTES = Buffer.from(JSON.stringify(UNSERIALISABLE_TEXT), "utf8");

/** Whether the serializer wrote its "unable to serialize" text for a value that is not that text itself. */
function isUnserialisableStandIn(value: unknown, bytes: Uint8Array): boolean {
  return (
    bytes.byteLength === UNSERIALISABLE_BYTES.byteLength &&
    value !== UNSERIALISABLE_TEXT &&
    UNSERIALISABLE_BYTES.equals(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
  );
}

/** Why JSON cannot write `value`: the path of a BigInt in it, else JSON.stringify's own message. Failure path only. */
function unserialisableReason(value: unknown): string {
  const stack: { value: unknown; path: string }[] = [{ value, path: "value" }];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const { value: current, path } = stack.pop() as (typeof stack)[number];
    if (typeof current === "bigint") return `a bigint at ${path}`;
    if (!isContainer(current) || seen.has(current)) continue;
    seen.add(current);
    const entries: [string | number, unknown][] =
      current instanceof Map
        ? [...current.entries()].map(([key, child]) => [String(key), child])
        : current instanceof Set
          ? [...current].map((child, i) => [i, child])
          : Array.isArray(current)
            ? Array.from(current, (child, i) => [i, child]) // not map: it keeps a sparse array's holes
            : Object.entries(current);
    for (const [key, child] of entries) stack.push({ value: child, path: childPath(path, key) });
  }
  try {
    JSON.stringify(value);
  } catch (error) {
    return `something JSON.stringify refuses (${error instanceof Error ? error.message : String(error)})`;
  }
  return "something JSON.stringify refuses";
}

/**
 * Serialises a checkpoint value with the saver's serializer, refusing with InvalidInputError (nothing written) a
 * value the serializer fails on or could not read back: a bare function or symbol (serialised as nothing), a value
 * JSON cannot write (a BigInt anywhere in it: LangGraph's serializer would store a stand-in text instead) and
 * values nested deeper than MAX_CHECKPOINT_VALUE_DEPTH; and with ValueTooLargeError one whose serialised form is
 * larger than `maxBytes`. `describe` names the value in the message; it is called only when something is refused,
 * so the hot path builds no strings.
 *
 * `messageTokens`: store the serializer's message boilerplate as codes (message-tokens.ts, value type
 * MESSAGE_TOKENS_TYPE) when the serde is the plain JsonPlusSerializer and the value holds messages. Set for channel
 * values and pending writes unless the saver's `compression` option is `false` (releases before this one cannot
 * read such values); checkpoints and metadata stay "json" (record.ts packs those).
 */
export async function dumpCheckpointValue(
  serde: SerializerProtocol,
  value: unknown,
  describe: () => string,
  maxBytes: number = Number.POSITIVE_INFINITY,
  messageTokens = false,
): Promise<[string, Uint8Array]> {
  return (
    dumpCheckpointValueAtOnce(serde, value, describe, maxBytes, messageTokens) ??
    dumpWithSerializer(serde, value, describe, maxBytes, messageTokens)
  );
}

/**
 * dumpCheckpointValue without a Promise where it can answer at once: LangGraph's own serializer through the fast
 * path (json-dump.ts), which takes nearly every checkpoint value. Undefined when the value needs the serializer
 * itself (then dumpWithSerializer). Throws as dumpCheckpointValue does. A put dumps three or more values: through
 * this it waits for none of them.
 */
function dumpCheckpointValueAtOnce(
  serde: SerializerProtocol,
  value: unknown,
  describe: () => string,
  maxBytes: number = Number.POSITIVE_INFINITY,
  messageTokens = false,
): [string, Uint8Array] | undefined {
  if (typeof value === "function" || typeof value === "symbol") {
    throw new InvalidInputError(`${describe()} is a ${typeof value}, which cannot be serialised; nothing was written`);
  }
  if (!isPlainJsonPlus(serde)) return undefined;
  // The fast path's values are at most 64 levels deep and hold nothing JSON cannot write: only the size to check.
  const dumped = dumpJsonValue(value, messageTokens);
  if (dumped === undefined) return undefined;
  if (dumped.jsonBytes > maxBytes) throw new ValueTooLargeError(describe(), dumped.jsonBytes, maxBytes);
  return [dumped.type, dumped.bytes];
}

/** One value for dumpCheckpointValues: what dumpCheckpointValue takes besides the serializer and the size limit. */
export interface ValueToDump {
  readonly value: unknown;
  readonly describe: () => string;
  readonly messageTokens: boolean;
}

/**
 * dumpCheckpointValue over the values of one write (a put's checkpoint, metadata and channel values; putWrites'
 * values): each at once where dumpCheckpointValueAtOnce takes it, the others through the serializer, awaited together.
 * A Promise only when one needed the serializer, so a put or putWrites of plain values waits for nothing before its
 * script is sent. A value refused at once throws, and the serializer's dumps already started are not waited for.
 */
export function dumpCheckpointValues(
  serde: SerializerProtocol,
  values: readonly ValueToDump[],
  maxBytes: number,
): [string, Uint8Array][] | Promise<[string, Uint8Array][]> {
  const dumped: [string, Uint8Array][] = [];
  const waiting: Promise<void>[] = [];
  try {
    values.forEach(({ value, describe, messageTokens }, i) => {
      const now = dumpCheckpointValueAtOnce(serde, value, describe, maxBytes, messageTokens);
      if (now !== undefined) dumped[i] = now;
      else
        waiting.push(
          dumpWithSerializer(serde, value, describe, maxBytes, messageTokens).then((done) => {
            dumped[i] = done;
          }),
        );
    });
  } catch (error) {
    for (const promise of waiting) promise.catch(() => {});
    throw error;
  }
  return waiting.length === 0 ? dumped : Promise.all(waiting).then(() => dumped);
}

/** dumpCheckpointValue for a value dumpCheckpointValueAtOnce could not take: the serializer itself, then checks. */
async function dumpWithSerializer(
  serde: SerializerProtocol,
  value: unknown,
  describe: () => string,
  maxBytes: number,
  messageTokens: boolean,
): Promise<[string, Uint8Array]> {
  const plain = isPlainJsonPlus(serde);
  let dumped: [string, Uint8Array];
  try {
    dumped = await serde.dumpsTyped(value);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidInputError(`${describe()} cannot be serialised (${reason}); nothing was written`, {
      cause: error,
    });
  }
  if (isUnserialisableStandIn(value, dumped[1])) {
    throw new InvalidInputError(
      `${describe()} cannot be serialised: it holds ${unserialisableReason(value)}, which JSON cannot write (the ` +
        "serializer would store a stand-in text instead); convert it first (a BigInt to a string); nothing was written",
    );
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
  if (messageTokens && plain && dumped[0] === "json") {
    const tokenized = tokenizeBytes(dumped[1]);
    if (tokenized !== undefined) return [MESSAGE_TOKENS_TYPE, tokenized];
  }
  return dumped;
}

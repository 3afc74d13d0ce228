/**
 * Many small stored values deserialised with one JSON parse. A DeltaChannel history holds one write per ancestor
 * (a message each, a few hundred bytes): parsing them one by one costs a string conversion, a token expansion, a
 * JSON.parse and a walk per value, about a third more than the same messages read as one list. Joined as the
 * elements of one JSON array, they parse and revive together, each element exactly as it would alone (the walk in
 * json-revive.ts treats an array element as it treats a whole value).
 *
 * Only what the synchronous path would decode goes in: LangGraph's own serializer, uncompressed values of type
 * "json" or message tokens small enough that they cannot expand past maxValueBytes. Anything the joined parse does
 * not give back as one element per value (a damaged value, one that needs the serializer's own reviver) is left to
 * the caller, which decodes those values one by one and reports the damaged one at its key.
 */
import type { SaverContext } from "./context.js";
import { isPlainJsonPlus, LOAD_LATER, loadsJsonNow } from "./json-revive.js";
import { cannotExpandPast, expand, MESSAGE_TOKENS_TYPE } from "./message-tokens.js";

/** Fewer values than this are decoded one by one: joining them saves nothing. */
const BATCH_MIN_VALUES = 4;

const OPEN = Buffer.from("[");
const COMMA = Buffer.from(",");
const CLOSE = Buffer.from("]");

const JSON_TYPE = Buffer.from("json");
const TOKENS_TYPE = Buffer.from(MESSAGE_TOKENS_TYPE);

/** A stored value as decodeWriteList has it unframed. */
export interface StoredValue {
  readonly type: Buffer;
  readonly stored: Buffer;
  readonly deflated: boolean;
}

/**
 * The values that decode together, by their index in `values`; the others (and any of a batch whose joined parse
 * fails) are not in the map and are decoded one by one.
 */
export function loadTogetherNow(context: SaverContext, values: readonly StoredValue[]): Map<number, unknown> {
  const loaded = new Map<number, unknown>();
  if (values.length < BATCH_MIN_VALUES || !isPlainJsonPlus(context.serde)) return loaded;
  const json: number[] = [];
  const tokens: number[] = [];
  values.forEach(({ type, stored, deflated }, i) => {
    if (deflated) return;
    if (type.equals(JSON_TYPE)) json.push(i);
    else if (type.equals(TOKENS_TYPE) && cannotExpandPast(MESSAGE_TOKENS_TYPE, stored.length, context.maxValueBytes)) {
      tokens.push(i);
    }
  });
  for (const [kind, indices] of [
    ["json", json],
    [MESSAGE_TOKENS_TYPE, tokens],
  ] as const) {
    const batch = loadBatchNow(
      kind,
      indices.map((i) => (values[i] as StoredValue).stored),
    );
    if (batch === undefined) continue;
    indices.forEach((i, k) => {
      loaded.set(i, batch[k]);
    });
  }
  return loaded;
}

/**
 * Values of one kind ("json", or message tokens that cannot expand past maxValueBytes) decoded with one parse:
 * result[i] for values[i]; undefined when too few, or when the joined parse does not give one element per value.
 */
export function loadBatchNow(
  kind: "json" | typeof MESSAGE_TOKENS_TYPE,
  values: readonly Buffer[],
): unknown[] | undefined {
  if (values.length < BATCH_MIN_VALUES) return undefined;
  const parts: Buffer[] = [OPEN];
  for (let i = 0; i < values.length; i++) {
    if (i > 0) parts.push(COMMA);
    parts.push(values[i] as Buffer);
  }
  parts.push(CLOSE);
  const joined = Buffer.concat(parts);
  try {
    // Codes never stand for "[", "," or "]", so expanding the joined bytes expands each value in place.
    const loaded = loadsJsonNow("json", kind === "json" ? joined : expand(kind, joined, Number.POSITIVE_INFINITY));
    return loaded !== LOAD_LATER && Array.isArray(loaded) && loaded.length === values.length ? loaded : undefined;
  } catch {
    // A value that is no JSON on its own: decoded alone, it is reported with its key.
    return undefined;
  }
}

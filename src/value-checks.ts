import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";
import { InvalidInputError, ValueTooLargeError } from "./errors.js";

/**
 * Checks on values before they are written, so a value that could not be read back is refused with a named error
 * and nothing is written (instead of a write that succeeds and a read that fails for ever):
 * - checkpoint values (RedisSaver): what LangGraph's serializer can write but not read back;
 * - store values (RedisStore): anything JSON would silently change (NaN, Infinity, a Date, a Map, a function...).
 */

/** Deepest nesting a checkpoint value may have. LangGraph's serializer revives values recursively and can exhaust
 * the stack from about 2,000 levels (depending on the stack already in use), so it is refused well before. */
export const MAX_CHECKPOINT_VALUE_DEPTH = 500;

/** A lone UTF-16 surrogate has no UTF-8 form: Redis would store U+FFFD, and two different names would collide. */
export function hasLoneSurrogate(text: string): boolean {
  return /\p{Cs}/u.test(text);
}

function isContainer(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}

/** Nesting depth of `value`, or `limit + 1` as soon as it is deeper than `limit`; iterative, so any depth is safe. */
export function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (!isContainer(current) || seen.has(current)) continue;
    seen.add(current);
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return limit + 1;
    const children =
      current instanceof Map
        ? [...current.keys(), ...current.values()]
        : current instanceof Set
          ? [...current]
          : Object.values(current);
    for (const child of children) if (isContainer(child)) stack.push([child, depth + 1]);
  }
  return deepest;
}

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
            ? current.map((child, i) => [i, child])
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
  return dumped;
}

function describeKind(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (typeof value !== "object" || value === null) return `a ${typeof value}`;
  const name = Object.getPrototypeOf(value)?.constructor?.name;
  return typeof name === "string" && name !== "" ? `a ${name}` : "an object with a custom prototype";
}

function childPath(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/**
 * Where `value` holds something JSON cannot keep exactly, as "a Date at value.createdAt", or undefined when it is
 * plain JSON. Allowed: plain objects (own string keys), arrays, strings, finite numbers other than -0, booleans,
 * null, and `undefined` as an object property (JSON omits the property, which reads back as absent). Refused
 * besides: -0 (JSON writes 0) and symbol-keyed properties (JSON drops them). Iterative.
 */
export function jsonViolation(value: unknown, root = "value"): string | undefined {
  const stack: { value: unknown; path: string }[] = [{ value, path: root }];
  // a value reached twice is checked once (a cycle is left to JSON.stringify, which refuses it)
  const seen = new Set<object>();
  while (stack.length > 0) {
    const { value: current, path } = stack.pop() as (typeof stack)[number];
    switch (typeof current) {
      case "string":
      case "boolean":
        continue;
      case "number":
        if (!Number.isFinite(current)) return `${describeKind(current)} at ${path}`;
        if (Object.is(current, -0)) return `-0 at ${path} (JSON would turn it into 0)`;
        continue;
      case "object":
        break;
      default:
        return `${describeKind(current)} at ${path}`;
    }
    if (current === null || seen.has(current)) continue;
    seen.add(current);
    if (Array.isArray(current)) {
      for (let i = 0; i < current.length; i++) {
        if (current[i] === undefined) return `undefined at ${childPath(path, i)} (JSON would turn it into null)`;
        stack.push({ value: current[i], path: childPath(path, i) });
      }
      continue;
    }
    const proto = Object.getPrototypeOf(current);
    if (proto !== Object.prototype && proto !== null) return `${describeKind(current)} at ${path}`;
    const symbol = Object.getOwnPropertySymbols(current)[0];
    if (symbol !== undefined) {
      return `a symbol-keyed property ${String(symbol)} at ${path} (JSON would drop it)`;
    }
    for (const [key, child] of Object.entries(current)) {
      if (child !== undefined) stack.push({ value: child, path: childPath(path, key) });
    }
  }
  return undefined;
}

/** Throws InvalidInputError (nothing written) when a store value is not plain JSON; see jsonViolation. */
export function requireJsonValue(value: unknown, what: string): void {
  const violation = jsonViolation(value);
  if (violation !== undefined) {
    throw new InvalidInputError(
      `${what}: the value must be plain JSON, but holds ${violation}; convert it first (e.g. a Date with ` +
        "toISOString()); nothing was written",
    );
  }
}

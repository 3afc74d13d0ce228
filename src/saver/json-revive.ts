/**
 * A faster equivalent of JsonPlusSerializer.loadsTyped for the "json" values the saver reads back. LangGraph's own
 * reviver walks the parsed JSON with one awaited call per node and a Promise.all per array, so deserialising a long
 * message list costs more than linear time (2,000 messages: about 16 times 200). This walk is synchronous and
 * revives the LangChain objects in it (lc 1 constructor records, e.g. messages) one after another, children before
 * their parents, each exactly as `load(JSON.stringify(record))` revives it there.
 *
 * Messages take a synchronous path: a record that is exactly `{lc: 1, type: "constructor", id, kwargs}` with id
 * `["langchain_core", "messages", <class>]` naming one of the message classes below, and kwargs that are plain JSON
 * data load() copies unchanged (no object with an `lc` or escape-marker key, no -0 or non-finite number, shallow
 * enough; the serializer's undefined records, for fields left undefined, are dropped or turned into null as load's JSON
 * round trip does), is built here as load() builds it: the kwargs keys mapped to field names (the class's inverted
 * lc_aliases, else load's camel-case rule; both cached per class), `new Class(fields)`, and the class's name set to the
 * id's last element. That skips load's re-stringify, re-parse and async walk, most of a message's cost. Every other
 * lc 1 record (and any message with a key the camel-case rules of @langchain/core 1.x could disagree on) still goes
 * through load() itself. test/saver/json-revive.test.ts checks the equivalence against the serializer for every class
 * accepted here, on the @langchain/core the tests install; a later core whose load() treats messages differently needs
 * those tests run again.
 *
 * The serializer's own lc 2 records for undefined and DeltaSnapshot (the seed of a DeltaChannel's history, which
 * holds its whole message list) are revived here too, in the same walk order. The rest it treats specially (lc 2
 * records for Set, Map, RegExp, Error, Uint8Array, or of a type it keeps as data; a `__proto__` key) send the whole
 * value back to the serializer itself, so the result is always what LangGraph's reviver returns.
 *
 * Used only when the saver's serde is LangGraph's JsonPlusSerializer itself (not a subclass or another serializer).
 */
import { load } from "@langchain/core/load";
import { DeltaSnapshot, JsonPlusSerializer, type SerializerProtocol } from "@langchain/langgraph-checkpoint";
import { MESSAGE_CLASSES, type MessageClass } from "./message-classes.js";

/** Thrown inside the walk when the value needs LangGraph's reviver. */
const NEEDS_SERIALIZER = Symbol("needs the serializer");

const decoder = new TextDecoder();

/** Whether `serde` is LangGraph's JsonPlusSerializer exactly (what revive() reproduces). */
export function isPlainJsonPlus(serde: SerializerProtocol): boolean {
  return Object.getPrototypeOf(serde) === JsonPlusSerializer.prototype;
}

type Container = Record<string, unknown> | unknown[];

/**
 * A record found by the walk, revived once its children are: an lc 1 constructor record (by its synchronous builder,
 * or else by load()), or one of the lc 2 records the serializer turns into undefined or a DeltaSnapshot.
 */
interface Revival {
  parent: Container;
  key: string | number;
  record: Record<string, unknown>;
  revive: MessagePlan | "load" | "undefined" | "delta snapshot";
}

/**
 * What loadsJsonNow returns for a value it cannot finish synchronously: a type other than "json", a value that needs
 * the serializer's own reviver, or an lc 1 record that needs load(). loadsJson then does the whole value.
 */
export const LOAD_LATER: unique symbol = Symbol("load later");

interface Walked {
  root: { value: unknown };
  revivals: Revival[];
}

/** The parsed value walked (records to revive found, in walk order), or LOAD_LATER when it needs the serializer. */
function parseAndWalk(bytes: Uint8Array | string): Walked | typeof LOAD_LATER {
  const parsed: unknown = JSON.parse(typeof bytes === "string" ? bytes : decoder.decode(bytes));
  const revivals: Revival[] = [];
  const root: { value: unknown } = { value: undefined };
  try {
    root.value = walk(parsed, root as unknown as Container, "value", revivals);
  } catch (error) {
    if (error === NEEDS_SERIALIZER) return LOAD_LATER;
    throw error;
  }
  return { root, revivals };
}

/** A found record's revived value, for every kind but "load". */
function reviveNow({ record, revive }: Revival): unknown {
  if (revive === "undefined") return undefined;
  if (revive === "delta snapshot") return new DeltaSnapshot(record.value);
  return buildMessage(revive as MessagePlan, record);
}

/**
 * loadsJson done synchronously when it can be (JSON, messages and the lc 2 records revive() handles): no promise per
 * value, which matters when a read decodes many small values (a DeltaChannel history holds one write per ancestor).
 * Returns LOAD_LATER otherwise, having changed nothing.
 */
export function loadsJsonNow(type: string, bytes: Uint8Array | string): unknown {
  if (type !== "json") return LOAD_LATER;
  const walked = parseAndWalk(bytes);
  if (walked === LOAD_LATER || walked.revivals.some(({ revive }) => revive === "load")) return LOAD_LATER;
  // In walk order: a record's children are revived (and written into it) before the record itself.
  for (const revival of walked.revivals)
    (revival.parent as Record<string | number, unknown>)[revival.key] = reviveNow(revival);
  return walked.root.value;
}

/** serde.loadsTyped(type, bytes) for a plain JsonPlusSerializer; `bytes` may be the JSON text already decoded. */
export async function loadsJson(serde: SerializerProtocol, type: string, bytes: Uint8Array | string): Promise<unknown> {
  if (type !== "json") return serde.loadsTyped(type, bytes);
  const walked = parseAndWalk(bytes);
  if (walked === LOAD_LATER) return serde.loadsTyped(type, bytes);
  for (const revival of walked.revivals) {
    (revival.parent as Record<string | number, unknown>)[revival.key] =
      revival.revive === "load" ? await load(JSON.stringify(revival.record)) : reviveNow(revival);
  }
  return walked.root.value;
}

/**
 * Revives `value` in place: JSON.parse made every object and array fresh, so reusing them gives what the serializer's
 * copy gives (the same own keys in the same order; a `__proto__` key, which a copy would treat differently, goes to
 * the serializer).
 */
function walk(value: unknown, parent: Container, key: string | number, revivals: Revival[]): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (item !== null && typeof item === "object") value[i] = walk(item, value, i, revivals);
    }
    return value;
  }
  const record = value as Record<string, unknown>;
  for (const name in record) {
    if (name === "__proto__") throw NEEDS_SERIALIZER;
    const child = record[name];
    if (child !== null && typeof child === "object") record[name] = walk(child, record, name, revivals);
  }
  if (record.lc === 1 && record.type === "constructor" && Array.isArray(record.id)) {
    revivals.push({ parent, key, record, revive: messageBuilderFor(record) ?? "load" });
  } else if (record.lc === 2) {
    // The serializer's checks, in its order; the other lc 2 records (Set, Map, RegExp, Error, Uint8Array, and
    // whatever it keeps as a plain object) are its own business.
    if (record.type === "undefined") revivals.push({ parent, key, record, revive: "undefined" });
    else if (record.type === "delta_snapshot" && Object.hasOwn(record, "value")) {
      revivals.push({ parent, key, record, revive: "delta snapshot" });
    } else throw NEEDS_SERIALIZER;
  }
  return record;
}

// ---------------------------------------------------------------------------------------------------------------
// The synchronous message path

/**
 * Whether a parsed lc 1 constructor record would be built by the synchronous message path (rather than by load()).
 * Exported for the equivalence tests, which check that the messages they compare really take it.
 */
export function revivesSynchronously(record: unknown): boolean {
  if (record === null || typeof record !== "object" || Array.isArray(record)) return false;
  const candidate = record as Record<string, unknown>;
  if (candidate.lc !== 1 || candidate.type !== "constructor" || !Array.isArray(candidate.id)) return false;
  return messageBuilderFor(candidate) !== undefined;
}

/** How the synchronous path builds one record. */
interface MessagePlan {
  builder: MessageBuilder;
  /** Whether its kwargs hold undefined records (revived before it, dropped by load's JSON round trip). */
  undefinedInside: boolean;
}

/** A message class with what the synchronous path caches for it. */
interface MessageBuilder {
  /** The id's last element: load() sets the class's name to it. */
  readonly name: string;
  readonly create: MessageClass;
  /** The class's lc_aliases over its prototype chain, inverted: JSON key -> field name. */
  readonly aliases: ReadonlyMap<string, string>;
  /** JSON key -> field name as load() maps it; null when the record must go to load(). */
  readonly fieldNames: Map<string, string | null>;
}

/** Field names cached per class at most (kwargs keys are a class's few field names; this bounds odd data). */
const FIELD_NAME_CACHE_LIMIT = 256;
/** Nesting below kwargs the synchronous path takes; load() refuses beyond 50 levels below the record. */
const KWARGS_DEPTH_LIMIT = 32;
/** The key load() unwraps an escaped object from. */
const ESCAPE_MARKER = "__lc_escaped__";

let builders: Map<string, MessageBuilder> | undefined;

/** How the synchronous path builds an lc 1 constructor record, or undefined when load() must. */
function messageBuilderFor(record: Record<string, unknown>): MessagePlan | undefined {
  const id = record.id as unknown[];
  if (id.length !== 3 || id[0] !== "langchain_core" || id[1] !== "messages" || typeof id[2] !== "string") {
    return undefined;
  }
  builders ??= createBuilders();
  const builder = builders.get(id[2]);
  if (builder === undefined) return undefined;
  // Exactly what Serializable.toJSON writes: anything else (extra keys included) is left to load().
  let keys = 0;
  for (const _ in record) keys++;
  if (keys !== 4 || !Object.hasOwn(record, "kwargs")) return undefined;
  const kwargs = record.kwargs;
  if (kwargs === null || typeof kwargs !== "object" || Array.isArray(kwargs)) return undefined;
  const scan = scanKwargs(kwargs, 0);
  if (scan === NOT_PLAIN) return undefined;
  for (const key in kwargs) if (fieldName(builder, key) === null) return undefined;
  return { builder, undefinedInside: scan === PLAIN_WITH_UNDEFINED };
}

function createBuilders(): Map<string, MessageBuilder> {
  const result = new Map<string, MessageBuilder>();
  for (const [name, create] of Object.entries(MESSAGE_CLASSES)) {
    const aliases = invertedAliases(create);
    if (aliases !== undefined) result.set(name, { name, create, aliases, fieldNames: new Map() });
  }
  return result;
}

/**
 * The class's lc_aliases (field name -> JSON key), the class's own first and each base class's after it (so a base
 * class's entry wins, as in load()), inverted with the later field winning a shared JSON key. Undefined (the class
 * stays with load()) when an alias is not a plain string key.
 */
function invertedAliases(create: MessageClass): Map<string, string> | undefined {
  const forward: Record<string, unknown> = {};
  for (let level: unknown = create; typeof level === "function" && level.prototype; ) {
    Object.assign(forward, Reflect.get(level.prototype as object, "lc_aliases"));
    level = Object.getPrototypeOf(level);
  }
  const inverted = new Map<string, string>();
  for (const field of Object.keys(forward)) {
    const jsonKey = forward[field];
    if (typeof jsonKey !== "string" || jsonKey === "__proto__") return undefined;
    inverted.set(jsonKey, field);
  }
  return inverted;
}

function fieldName(builder: MessageBuilder, jsonKey: string): string | null {
  let name = builder.fieldNames.get(jsonKey);
  if (name === undefined) {
    name = mapJsonKey(builder.aliases, jsonKey);
    if (builder.fieldNames.size < FIELD_NAME_CACHE_LIMIT) builder.fieldNames.set(jsonKey, name);
  }
  return name;
}

/**
 * load()'s key mapping: the alias when there is a non-empty one, else the camel-case form. Only snake-case keys of
 * lower-case words are camel-cased here (every message field is one): early @langchain/core 1.1 releases (1.1.44,
 * the oldest this package accepts, included) used another camel-case rule, and the two agree on those keys. load()
 * looks the alias up on a plain object, so a key Object.prototype answers for (`constructor`, ...) would map to that
 * member: such keys are left to load() too.
 */
function mapJsonKey(aliases: ReadonlyMap<string, string>, jsonKey: string): string | null {
  const alias = aliases.get(jsonKey);
  if (alias === undefined && (jsonKey in Object.prototype || !SNAKE_CASE_KEY.test(jsonKey))) return null;
  const name = alias || camelCaseKey(jsonKey);
  return name === "__proto__" ? null : name;
}

const SNAKE_CASE_KEY = /^[a-z][a-z0-9]*(?:_[a-z][a-z0-9]*)*$/;

const HAS_SEPARATOR = /[-_\s]/;
const SEPARATOR_RUNS = /[-_\s]+/g;
const UNDERSCORE_THEN_WORD_CHAR = /_+([a-z0-9])/g;

/** load()'s camel-case rule: trimmed; with separators, lower-cased and each `_x` turned into `X`. */
function camelCaseKey(jsonKey: string): string {
  const trimmed = jsonKey.trim();
  if (!HAS_SEPARATOR.test(trimmed)) return trimmed;
  return trimmed
    .replace(SEPARATOR_RUNS, "_")
    .toLowerCase()
    .replace(UNDERSCORE_THEN_WORD_CHAR, (_run, next: string) => next.toUpperCase());
}

const NOT_PLAIN = 0;
const PLAIN = 1;
const PLAIN_WITH_UNDEFINED = 2;
type Scan = typeof NOT_PLAIN | typeof PLAIN | typeof PLAIN_WITH_UNDEFINED;

/**
 * Whether load() would copy `value` unchanged: JSON.stringify then JSON.parse keeps it (no -0, which becomes 0, no
 * non-finite number, which becomes null), and its reviver finds nothing to treat specially (an object with an `lc`
 * key, an escaped object) or to refuse (too deep). The one exception is the serializer's undefined record: the walk
 * revives it to undefined before the message is built, and dropUndefined then does what load's JSON round trip does
 * to it. `__proto__` keys never reach here (the walk hands them over).
 */
function scanKwargs(value: unknown, depth: number): Scan {
  if (typeof value === "number") return Number.isFinite(value) && !Object.is(value, -0) ? PLAIN : NOT_PLAIN;
  if (value === null || typeof value !== "object") return PLAIN;
  if (depth >= KWARGS_DEPTH_LIMIT) return NOT_PLAIN;
  let result: Scan = PLAIN;
  if (Array.isArray(value)) {
    for (const item of value) {
      const scan = scanKwargs(item, depth + 1);
      if (scan === NOT_PLAIN) return NOT_PLAIN;
      if (scan === PLAIN_WITH_UNDEFINED) result = scan;
    }
    return result;
  }
  const record = value as Record<string, unknown>;
  // The walk's test for an undefined record, whatever else the record holds.
  if (record.lc === 2 && record.type === "undefined") return PLAIN_WITH_UNDEFINED;
  for (const key in record) {
    if (key === "lc" || key === ESCAPE_MARKER) return NOT_PLAIN;
    const scan = scanKwargs(record[key], depth + 1);
    if (scan === NOT_PLAIN) return NOT_PLAIN;
    if (scan === PLAIN_WITH_UNDEFINED) result = scan;
  }
  return result;
}

/** What load's JSON round trip does to undefined: an object drops the key, an array holds null. */
function dropUndefined(value: Record<string, unknown> | unknown[]): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (item === undefined) value[i] = null;
      else if (item !== null && typeof item === "object") dropUndefined(item as Record<string, unknown> | unknown[]);
    }
    return;
  }
  for (const key in value) {
    const item = value[key];
    if (item === undefined) delete value[key];
    else if (item !== null && typeof item === "object") dropUndefined(item as Record<string, unknown> | unknown[]);
  }
}

/** The message load() builds from `record` (accepted by messageBuilderFor), with load()'s side effect on its name. */
function buildMessage({ builder, undefinedInside }: MessagePlan, record: Record<string, unknown>): object {
  const kwargs = record.kwargs as Record<string, unknown>;
  if (undefinedInside) dropUndefined(kwargs);
  const fields: Record<string, unknown> = {};
  for (const key in kwargs)
    fields[builder.fieldNames.get(key) ?? (mapJsonKey(builder.aliases, key) as string)] = kwargs[key];
  const message = new builder.create(fields);
  Object.defineProperty(message.constructor, "name", { value: builder.name });
  return message;
}

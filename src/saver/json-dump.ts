/**
 * A faster equivalent of JsonPlusSerializer.dumpsTyped for the values checkpoints mostly hold: plain JSON data,
 * LangChain messages, undefined entries and DeltaSnapshot seeds. It writes the same bytes the serializer writes.
 *
 * The serializer walks the whole value twice in JavaScript (a cycle check, then JSON.stringify with a replacer called
 * at every node) and serialises each message through Serializable.toJSON, which rebuilds its kwargs three times
 * (escape copy, alias and snake-case mapping). A 21-message chat costs about 150 us that way, on every put: LangGraph
 * stores a changed channel whole. Here one walk builds what those steps would hand to JSON.stringify, copying only
 * the objects that change (a message becomes its `{lc: 1, type: "constructor", id, kwargs}` record, undefined
 * becomes the serializer's `{lc: 2, type: "undefined"}` record), and the native JSON.stringify writes it without a
 * replacer: about a third of the time. A list of messages (a chat channel, a DeltaChannel's writes and snapshots)
 * reuses each message's JSON from its previous write while the message holds equal data (see "Lists of messages"):
 * about an eighth of the serializer's time for the 21-message chat.
 *
 * The walk takes only what it can prove the serializer writes the same way, and hands the whole value to the
 * serializer otherwise:
 * - primitives (no bigint, function or symbol), undefined, arrays (at most MAX_ARRAY_LENGTH long) and plain objects
 *   (no toJSON, not LangGraph's Send shape, an array included), at most DEPTH_LIMIT levels deep (so no cycle,
 *   which the serializer would write as "[Circular]"; its cycle check also walks the properties of messages and
 *   DeltaSnapshots the walk does not read, and so does checkOtherProperties);
 * - DeltaSnapshot outside a message (without a toJSON of its own);
 * - messages of the classes in message-classes.ts exactly (not subclasses), with Serializable's own toJSON, plain lc_kwargs whose keys
 *   are snake-case words (toJSON's snake-case rule leaves them as they are in every @langchain/core 1.x), no secrets
 *   or extra attributes on the class, an lc_id of strings, no `lg_name` field, and kwargs values that toJSON's
 *   escaping leaves unchanged (no object with an `lc` key or only the escape marker, hidden ones included) and its
 *   copy keeps equal (plain data and messages only; no array with its own `map` or `constructor`).
 * test/saver/json-dump.test.ts checks byte equality with the serializer over arbitrary values of all those shapes,
 * and that the values handed over really are.
 *
 * Used only when the saver's serde is LangGraph's JsonPlusSerializer itself (isPlainJsonPlus).
 */
import { HumanMessage } from "@langchain/core/messages";
import { DeltaSnapshot } from "@langchain/langgraph-checkpoint";
import { MESSAGE_CLASSES } from "./message-classes.js";
import { MESSAGE_TOKENS_TYPE, mayHoldMessages, type Tokenized, tokenize } from "./message-tokens.js";

/** Thrown inside the walk when the value needs the serializer. */
const NEEDS_SERIALIZER = Symbol("needs the serializer");

/** Deepest nesting the walk takes: far below the saver's own limit, and bounds a cycle's recursion. */
const DEPTH_LIMIT = 64;

/**
 * Longest array the walk takes: an array this long costs the serializer seconds (a sparse one is cheap to make), and
 * copying it (undefined holes become records) would take gigabytes.
 */
const MAX_ARRAY_LENGTH = 1 << 20;

const arrayMap = Array.prototype.map;
const isEnumerableOwn = Object.prototype.propertyIsEnumerable;

/** What the serializer writes for undefined (shared: JSON.stringify only refuses an object inside itself). */
const UNDEFINED_RECORD = Object.freeze({ lc: 2, type: "undefined" });

/**
 * `serde.dumpsTyped(value)[1]` for a plain JsonPlusSerializer (always of type "json"), or undefined when the value
 * needs the serializer itself (a Uint8Array, which it stores as bytes, included).
 */
export function dumpJson(value: unknown): Uint8Array | undefined {
  return dumpJsonValue(value, false)?.bytes;
}

/** A value written by dumpJsonValue. */
export interface DumpedJson {
  /** "json", or MESSAGE_TOKENS_TYPE when the bytes are tokenized (message-tokens.ts). */
  readonly type: string;
  readonly bytes: Uint8Array;
  /** Length of the serializer's own bytes (what the size limit applies to). */
  readonly jsonBytes: number;
}

/**
 * dumpJson, with the serializer's message boilerplate tokenized when `tokens` is set and the value holds any
 * (message-tokens.ts). A list of messages is tokenized message by message, each message's tokens kept with its
 * JSON, so an unchanged message costs nothing more at the next put.
 */
export function dumpJsonValue(value: unknown, tokens: boolean): DumpedJson | undefined {
  if (value instanceof Uint8Array) return undefined;
  try {
    const list = messageListText(value, tokens);
    if (list !== undefined && tokens) return tokenizedJson(list);
    const text = list?.text ?? JSON.stringify(toPlain(value, 0, false));
    if (tokens && mayHoldMessages(text)) {
      const tokenized = tokenize(text);
      if (tokenized.saved > 0) return tokenizedJson(tokenized);
    }
    const bytes = Buffer.from(text, "utf8");
    return { type: "json", bytes, jsonBytes: bytes.byteLength };
  } catch {
    // NEEDS_SERIALIZER, or a getter that threw: the serializer meets it too and reports it its own way.
    return undefined;
  }
}

function tokenizedJson({ text, saved }: Tokenized): DumpedJson {
  const bytes = Buffer.from(text, "utf8");
  // Codes and phrases are ASCII: the characters saved are bytes saved.
  return { type: MESSAGE_TOKENS_TYPE, bytes, jsonBytes: bytes.byteLength + saved };
}

/**
 * What the serializer's JSON.stringify sees for `value`: the value itself when nothing in it changes, else a copy.
 * `inKwargs`: below a message's kwargs, where toJSON escapes objects with an `lc` key and flattens class instances.
 */
function toPlain(value: unknown, depth: number, inKwargs: boolean): unknown {
  switch (typeof value) {
    case "string":
    case "number":
    case "boolean":
      return value;
    case "undefined":
      return UNDEFINED_RECORD;
    case "object":
      break;
    default:
      throw NEEDS_SERIALIZER;
  }
  if (value === null) return null;
  if (depth >= DEPTH_LIMIT) throw NEEDS_SERIALIZER;
  const prototype = Object.getPrototypeOf(value);
  if (prototype === Array.prototype) return arrayToPlain(value as unknown[], depth, inKwargs);
  if (prototype === Object.prototype || prototype === null) {
    return objectToPlain(value as Record<string, unknown>, depth, inKwargs);
  }
  const plan = messagePlans().get(prototype);
  if (plan !== undefined) return messageToPlain(value as SerializableMessage, plan, depth);
  if (prototype === DeltaSnapshot.prototype && !inKwargs && (value as { toJSON?: unknown }).toJSON === undefined) {
    checkOtherProperties(value, "value", depth);
    return { lc: 2, type: "delta_snapshot", value: toPlain((value as DeltaSnapshot).value, depth + 1, false) };
  }
  throw NEEDS_SERIALIZER;
}

function arrayToPlain(array: unknown[], depth: number, inKwargs: boolean): unknown[] {
  if (arrayNeedsSerializer(array, inKwargs)) throw NEEDS_SERIALIZER;
  let copy: unknown[] | undefined;
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    const plain = isJsonPrimitive(item) ? item : toPlain(item, depth + 1, inKwargs);
    if (copy === undefined && plain !== item) {
      // not array.slice: a method of the value (or its species constructor) could be anything
      copy = [];
      for (let j = 0; j < i; j++) copy.push(array[j]);
    }
    if (copy !== undefined) copy.push(plain);
  }
  return copy ?? array;
}

/**
 * Whether the serializer writes this array otherwise than JSON.stringify writes its items: it has a toJSON, or an
 * lg_name of "Send" (the replacer's Send record), or is too long to copy; in kwargs also an own `map` or
 * `constructor`, which escapeIfNeeded's `value.map` copy would use.
 */
function arrayNeedsSerializer(array: unknown[], inKwargs: boolean): boolean {
  const fields = array as unknown as { toJSON?: unknown; lg_name?: unknown; map: unknown; constructor: unknown };
  return (
    fields.toJSON !== undefined ||
    fields.lg_name === "Send" ||
    array.length > MAX_ARRAY_LENGTH ||
    (inKwargs && (fields.map !== arrayMap || fields.constructor !== Array))
  );
}

/** Whether escapeIfNeeded (in kwargs) treats this plain object otherwise than as its enumerable entries. */
function kwargsObjectNeedsSerializer(object: Record<string, unknown>, keys: readonly string[]): boolean {
  // An `lc` key, or the escape marker as its only key, is wrapped in the marker (`in` sees hidden properties too);
  // a toJSON is called (on a Serializable-like object) or copied.
  return object.toJSON !== undefined || "lc" in object || (keys.length === 1 && ESCAPE_MARKER in object);
}

function objectToPlain(object: Record<string, unknown>, depth: number, inKwargs: boolean): Record<string, unknown> {
  if (object.toJSON !== undefined || object.lg_name === "Send") throw NEEDS_SERIALIZER;
  const keys = Object.keys(object);
  if (inKwargs && kwargsObjectNeedsSerializer(object, keys)) throw NEEDS_SERIALIZER;
  let copy: Record<string, unknown> | undefined;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    // toJSON's escape copy assigns it, which sets the copy's prototype instead
    if (key === "__proto__" && inKwargs) throw NEEDS_SERIALIZER;
    const child = object[key];
    const plain = isJsonPrimitive(child) ? child : toPlain(child, depth + 1, inKwargs);
    if (copy === undefined && plain !== child) {
      copy = {};
      for (let j = 0; j < i; j++) setOwn(copy, keys[j] as string, object[keys[j] as string]);
    }
    if (copy !== undefined) setOwn(copy, key, plain);
  }
  return copy ?? object;
}

/** copy[key] = value, as an own property even for `__proto__` (JSON.parse makes such keys). */
function setOwn(copy: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(copy, key, { value, enumerable: true, writable: true });
  else copy[key] = value;
}

function isPlainObject(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function isJsonPrimitive(value: unknown): boolean {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean" || value === null;
}

// ---------------------------------------------------------------------------------------------------------------
// Messages

/** The key Serializable.toJSON wraps an escaped object in. */
const ESCAPE_MARKER = "__lc_escaped__";

/** The members of a message the walk reads (those Serializable.toJSON reads). */
interface SerializableMessage {
  readonly lc_serializable: boolean;
  readonly lc_kwargs: unknown;
  readonly lc_id: string[];
  readonly toJSON: unknown;
}

/** What the walk caches per message class. */
interface MessagePlan {
  /** The class's lc_aliases over its prototype chain (Serializable.toJSON's merge), as a map. */
  readonly aliases: ReadonlyMap<string, string>;
  /** kwargs key -> the key toJSON writes; null when the message must go to the serializer. Bounded. */
  readonly jsonKeys: Map<string, string | null>;
}

/** Keys cached per class at most (kwargs keys are a class's few field names; this bounds odd data). */
const JSON_KEY_CACHE_LIMIT = 256;
const SNAKE_CASE_KEY = /^[a-z][a-z0-9]*(?:_[a-z][a-z0-9]*)*$/;

let plans: Map<object, MessagePlan> | undefined;
let serializableToJSON: unknown;

/** Message class prototype -> its plan; classes whose toJSON the walk cannot reproduce are left out. */
function messagePlans(): Map<object, MessagePlan> {
  if (plans !== undefined) return plans;
  plans = new Map();
  // Serializable.prototype.toJSON: the one every message class inherits (none overrides it).
  serializableToJSON = (HumanMessage.prototype as unknown as SerializableMessage).toJSON;
  for (const create of Object.values(MESSAGE_CLASSES)) {
    const prototype = create.prototype;
    if ((prototype as SerializableMessage).toJSON !== serializableToJSON) continue;
    const aliases = classAliases(prototype);
    if (aliases !== undefined) plans.set(prototype, { aliases, jsonKeys: new Map() });
  }
  return plans;
}

/**
 * The class's lc_aliases merged as toJSON merges them (own class first, each base after it), or undefined when the
 * class has secrets or extra attributes (toJSON rewrites kwargs with them) or an alias that is not a plain key.
 */
function classAliases(prototype: object): Map<string, string> | undefined {
  const merged: Record<string, unknown> = {};
  for (let current: object | null = prototype; current !== null; current = Object.getPrototypeOf(current)) {
    Object.assign(merged, Reflect.get(current, "lc_aliases"));
    const secrets = Reflect.get(current, "lc_secrets");
    const attributes = Reflect.get(current, "lc_attributes");
    if (secrets !== undefined && Object.keys(secrets as object).length > 0) return undefined;
    if (attributes !== undefined && Object.keys(attributes as object).length > 0) return undefined;
  }
  const aliases = new Map<string, string>();
  for (const [field, jsonKey] of Object.entries(merged)) {
    if (typeof jsonKey !== "string" || !SNAKE_CASE_KEY.test(jsonKey)) return undefined;
    aliases.set(field, jsonKey);
  }
  return aliases;
}

/**
 * The key toJSON writes for a kwargs key: `aliases[key] || snakeCase(key)`. Only snake-case keys of lower-case
 * words are taken (snakeCase leaves them unchanged); toJSON looks aliases up on a plain object, so a key
 * Object.prototype answers for (`constructor`, `__proto__`, ...) goes to the serializer too.
 */
function jsonKeyOf(plan: MessagePlan, key: string): string | null {
  let jsonKey = plan.jsonKeys.get(key);
  if (jsonKey === undefined) {
    jsonKey = key in Object.prototype || !SNAKE_CASE_KEY.test(key) ? null : plan.aliases.get(key) || key;
    if (plan.jsonKeys.size < JSON_KEY_CACHE_LIMIT) plan.jsonKeys.set(key, jsonKey);
  }
  return jsonKey;
}

/** Serializable.toJSON's record for a message of a planned class, with its kwargs walked. */
function messageToPlain(message: SerializableMessage, plan: MessagePlan, depth: number): Record<string, unknown> {
  const fields = messageFields(message);
  const kwargs: Record<string, unknown> = {};
  for (const key of Object.keys(fields)) {
    const jsonKey = jsonKeyOf(plan, key);
    // The replacer would turn a kwargs object with lg_name "Send" into a Send record.
    if (jsonKey === null || jsonKey === "lg_name") throw NEEDS_SERIALIZER;
    const value = kwargsValue(message, fields, key);
    kwargs[jsonKey] = isJsonPrimitive(value) ? value : toPlain(value, depth + 2, true);
  }
  checkOtherProperties(message, fields, depth);
  const id = message.lc_id;
  // Written through the replacer: only strings are written as JSON.stringify writes them.
  if (!isStringArray(id)) throw NEEDS_SERIALIZER;
  return { lc: 1, type: "constructor", id, kwargs };
}

function isStringArray(value: unknown): value is string[] {
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== "string") return false;
  return true;
}

/**
 * The serializer's cycle check (fast-safe-stringify's decirc) walks every own enumerable property of a message or
 * DeltaSnapshot, not only what the walk reads, and writes "[Circular]" wherever a cycle it finds there is reached.
 * So the properties the walk did not follow are walked here the way decirc walks them, to the same depth limit:
 * a cycle through them hands the value to the serializer. `followed` is the message's kwargs (whose keys the walk
 * read, and whose values it read unless the instance shadows them), or the one key a DeltaSnapshot's walk read.
 * Plain data and other messages reached from here are walked by the same rule, so a cycle that the walk's reading
 * of a value closes is always met again by the walk itself. Most properties are primitives or the values read.
 */
function checkOtherProperties(owner: object, followed: Record<string, unknown> | string, depth: number): void {
  const record = owner as Record<string, unknown>;
  for (const key of Object.keys(owner)) {
    const value = record[key];
    if (value === null || typeof value !== "object") continue;
    if (typeof followed === "string") {
      if (key !== followed) checkCycles(value, depth + 1);
    } else if (value === followed) {
      // lc_kwargs: its values for keys the instance shadows were not read
      for (const field of Object.keys(followed)) {
        const stored = followed[field];
        if (stored !== null && typeof stored === "object" && field in owner && stored !== record[field]) {
          checkCycles(stored, depth + 2);
        }
      }
    } else if (!isEnumerableOwn.call(followed, key)) {
      // not one of the kwargs keys (Object.keys: own and enumerable), whose values the walk read
      checkCycles(value, depth + 1);
    }
  }
}

/** decirc's walk (own enumerable keys, array indices) to DEPTH_LIMIT: throws NEEDS_SERIALIZER at the limit. */
function checkCycles(value: unknown, depth: number): void {
  if (value === null || typeof value !== "object") return;
  if (depth >= DEPTH_LIMIT) throw NEEDS_SERIALIZER;
  if (Array.isArray(value)) {
    if (value.length > MAX_ARRAY_LENGTH) throw NEEDS_SERIALIZER;
    for (let i = 0; i < value.length; i++) checkCycles(value[i], depth + 1);
    return;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(value)) checkCycles(record[key], depth + 1);
}

/** The message's lc_kwargs, when toJSON would write them as the walk does. */
function messageFields(message: SerializableMessage): Record<string, unknown> {
  const fields = message.lc_kwargs;
  if (message.toJSON !== serializableToJSON || message.lc_serializable !== true || !isPlainObject(fields)) {
    throw NEEDS_SERIALIZER;
  }
  return fields as Record<string, unknown>;
}

/** toJSON reads the instance's own field where there is one (it may have been updated), else the constructor's. */
function kwargsValue(message: SerializableMessage, fields: Record<string, unknown>, key: string): unknown {
  return key in message ? (message as unknown as Record<string, unknown>)[key] : fields[key];
}

// ---------------------------------------------------------------------------------------------------------------
// Lists of messages: each message's JSON kept while the message lives

/**
 * A chat's message list is stored whole at every step (a plain MessagesAnnotation channel; a DeltaChannel's
 * writes and snapshots), so the same message objects are written again and again. A message's JSON is kept
 * (weakly, on the object) with a private copy of what it was written from: its kwargs keys and values and its
 * lc_id. It is reused only while the message still holds equal data, compared in depth, so an edited message (a
 * field replaced, or changed deep inside its kwargs) is written again. Messages whose kwargs hold anything but
 * plain data, or whose JSON is large, are not kept.
 *
 * What is kept is bounded: about a kilobyte of process memory per message (its JSON, its tokens and the copy), for
 * as long as the message lives, would add most of the messages' own size to a process holding the state of
 * thousands of threads. Entries go into a current generation; once it holds KEPT_GENERATION_CHARS characters of
 * JSON and tokens it becomes the previous one and the one before is dropped whole, so at most two generations'
 * worth stays (about 40 MB of heap). A message found in the previous generation moves to the current one: the
 * messages written again and again (an active chat's) stay kept, and the others are written by the walk again.
 */
interface WrittenMessage {
  readonly plan: MessagePlan;
  readonly id: readonly string[];
  readonly keys: readonly string[];
  readonly values: readonly unknown[];
  readonly json: string;
  /** `json` tokenized (message-tokens.ts), made at the first tokenized write. */
  tokens: Tokenized | undefined;
}

/** Characters of kept JSON and tokens the current generation takes before it becomes the previous one. */
const KEPT_GENERATION_CHARS = 8 * 1024 * 1024;
let written = new WeakMap<object, WrittenMessage>();
let writtenBefore = new WeakMap<object, WrittenMessage>();
let writtenChars = 0;

/** The kept record of a message, moved into the current generation when it was found in the previous one. */
function keptRecord(message: object): WrittenMessage | undefined {
  const kept = written.get(message);
  if (kept !== undefined) return kept;
  const older = writtenBefore.get(message);
  if (older !== undefined) keep(message, older);
  return older;
}

function keep(message: object, entry: WrittenMessage): void {
  if (writtenChars >= KEPT_GENERATION_CHARS) {
    writtenBefore = written;
    written = new WeakMap();
    writtenChars = 0;
  }
  written.set(message, entry);
  writtenChars += entry.json.length + (entry.tokens?.text.length ?? 0);
}
/** Longer message JSON is not kept (the copy would double the memory of a large message for little gain). */
const KEPT_JSON_MAX_CHARS = 16 * 1024;
/** What copyData returns for data it does not copy. */
const NOT_KEPT = Symbol("not kept");

/**
 * The JSON of an array of messages of planned classes, tokenized when `tokens` is set (each message's tokens kept
 * beside its JSON), or undefined for any other value.
 */
function messageListText(value: unknown, tokens: boolean): Tokenized | undefined {
  if (!Array.isArray(value) || Object.getPrototypeOf(value) !== Array.prototype || value.length === 0) return undefined;
  if (arrayNeedsSerializer(value, false)) return undefined;
  const parts: string[] = [];
  let saved = 0;
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    if (item === null || typeof item !== "object") return undefined;
    const plan = messagePlans().get(Object.getPrototypeOf(item));
    if (plan === undefined) return undefined;
    const kept = writtenMessage(item as SerializableMessage, plan);
    if (!tokens) {
      parts.push(typeof kept === "string" ? kept : kept.json);
      continue;
    }
    let tokenized: Tokenized;
    if (typeof kept === "string") tokenized = tokenize(kept);
    else {
      if (kept.tokens === undefined) {
        kept.tokens = tokenize(kept.json);
        writtenChars += kept.tokens.text.length;
      }
      tokenized = kept.tokens;
    }
    parts.push(tokenized.text);
    saved += tokenized.saved;
  }
  return { text: `[${parts.join(",")}]`, saved };
}

/** The message's kept record (its JSON still current), written again when it changed; its JSON when not kept. */
function writtenMessage(message: SerializableMessage, plan: MessagePlan): WrittenMessage | string {
  const fields = messageFields(message);
  const keys = Object.keys(fields);
  const kept = keptRecord(message);
  if (kept !== undefined && kept.plan === plan && stillWritten(kept, message, fields, keys)) return kept;
  const record = messageToPlain(message, plan, 1);
  const json = JSON.stringify(record);
  if (json.length > KEPT_JSON_MAX_CHARS) return json;
  const values: unknown[] = [];
  for (const key of keys) {
    const copy = copyData(kwargsValue(message, fields, key), 0);
    if (copy === NOT_KEPT) return json;
    values.push(copy);
  }
  const entry: WrittenMessage = { plan, id: copyStrings(record.id as string[]), keys, values, json, tokens: undefined };
  keep(message, entry);
  return entry;
}

/** Whether the message would be written as it was: the same lc_id, kwargs keys in order and equal values. */
function stillWritten(
  kept: WrittenMessage,
  message: SerializableMessage,
  fields: Record<string, unknown>,
  keys: readonly string[],
): boolean {
  if (keys.length !== kept.keys.length) return false;
  const id: unknown = message.lc_id;
  if (!Array.isArray(id) || id.length !== kept.id.length) return false;
  for (let i = 0; i < id.length; i++) if (id[i] !== kept.id[i]) return false;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (key !== kept.keys[i] || !sameData(kwargsValue(message, fields, key), kept.values[i])) return false;
  }
  return true;
}

function copyStrings(strings: readonly string[]): string[] {
  const copy: string[] = [];
  for (let i = 0; i < strings.length; i++) copy.push(strings[i] as string);
  return copy;
}

/** A private copy of plain data (primitives, undefined, arrays, plain objects), or NOT_KEPT for anything else. */
function copyData(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== "object") {
    return typeof value === "function" || typeof value === "symbol" || typeof value === "bigint" ? NOT_KEPT : value;
  }
  if (depth >= DEPTH_LIMIT) return NOT_KEPT;
  const prototype = Object.getPrototypeOf(value);
  if (prototype === Array.prototype) {
    const copy: unknown[] = [];
    for (let i = 0; i < (value as unknown[]).length; i++) {
      const item = copyData((value as unknown[])[i], depth + 1);
      if (item === NOT_KEPT) return NOT_KEPT;
      copy.push(item);
    }
    return copy;
  }
  if (prototype !== Object.prototype && prototype !== null) return NOT_KEPT;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = copyData((value as Record<string, unknown>)[key], depth + 1);
    if (item === NOT_KEPT) return NOT_KEPT;
    setOwn(copy, key, item);
  }
  return copy;
}

/** Whether `current` is plain data equal to the private copy `kept` (same keys in the same order). */
function sameData(current: unknown, kept: unknown): boolean {
  if (kept === null || typeof kept !== "object") return current === kept;
  if (current === null || typeof current !== "object") return false;
  const prototype = Object.getPrototypeOf(current);
  if (Array.isArray(kept)) {
    if (prototype !== Array.prototype || (current as unknown[]).length !== kept.length) return false;
    // own properties that escapeIfNeeded's copy would use (the walk hands such arrays over)
    const fields = current as { map: unknown; constructor: unknown };
    if (fields.map !== arrayMap || fields.constructor !== Array) return false;
    for (let i = 0; i < kept.length; i++) if (!sameData((current as unknown[])[i], kept[i])) return false;
    return true;
  }
  if (prototype !== Object.prototype && prototype !== null) return false;
  const keys = Object.keys(current);
  const keptKeys = Object.keys(kept);
  if (keys.length !== keptKeys.length) return false;
  if (kwargsObjectNeedsSerializer(current as Record<string, unknown>, keys)) return false;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (key !== keptKeys[i]) return false;
    if (!sameData((current as Record<string, unknown>)[key], (kept as Record<string, unknown>)[key])) return false;
  }
  return true;
}

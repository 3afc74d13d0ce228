/**
 * Message tokens: LangChain messages as JsonPlusSerializer writes them, with the serializer's boilerplate replaced
 * by short codes. Every message carries the same envelope, class name, kwargs keys and empty defaults, e.g.
 * `{"lc":1,"type":"constructor","id":["langchain_core","messages","AIMessage"],"kwargs":{"content":"` + text +
 * `","tool_calls":[],"invalid_tool_calls":[],"additional_kwargs":{},"response_metadata":{},"id":"` + id + `"}}`:
 * about 170 bytes that a chat stores again in every pending write, DeltaChannel snapshot, `__start__` input and
 * full copy or delta of a message list. Here they cost 3 bytes.
 *
 * JSON text never holds a raw byte below 0x20 (JSON.stringify escapes them as `\u00XX`), and UTF-8 never uses such a
 * byte inside a multi-byte sequence, so a single control byte is an unambiguous code: 0x01 to 0x1E stand for the
 * first 30 phrases of the dictionary, 0x1F followed by one printable ASCII byte (0x20 + k) for phrase 30 + k. 0x00
 * is never a code. Codes are plain ASCII, so the same substitution works on the UTF-8 bytes and on the decoded text,
 * and expand(tokenize(text)) is `text` exactly, whatever the text holds (a phrase is replaced wherever it occurs,
 * inside a string value too: its code expands back to it).
 *
 * A tokenized value is stored with its own value type, `jt` + the dictionary's number (MESSAGE_TOKENS_TYPE), in
 * place of "json", so a reader never guesses; no LangGraph serializer writes a type of that form ("json", "bytes",
 * or an encrypted `<type>+<cipher>`). A dictionary, once released, never changes: a new one gets the next number and
 * is added beside it, so values written with an earlier one stay readable.
 */
import { longestFirstPattern } from "./phrase-pattern.js";

/**
 * Dictionary 1: @langchain/core 1.x messages (message-classes.ts) as JsonPlusSerializer writes them: the envelope,
 * each class with its first kwargs key, the kwargs keys in the order toJSON writes them and their empty defaults,
 * tool calls, usage metadata, and LangGraph's undefined and DeltaSnapshot records. The most frequent phrases come
 * first (one-byte codes); runs of them a chat writes together are single phrases.
 */
const MESSAGE_TOKENS_1: readonly string[] = [
  // one-byte codes 0x01..0x1E
  '{"lc":1,"type":"constructor","id":["langchain_core","messages","',
  'HumanMessage"],"kwargs":{"content":"',
  'AIMessage"],"kwargs":{"content":"',
  'ToolMessage"],"kwargs":{"content":"',
  'SystemMessage"],"kwargs":{"content":"',
  'AIMessageChunk"],"kwargs":{"content":"',
  'MessageChunk"],"kwargs":{',
  'Message"],"kwargs":{',
  '","tool_calls":[],"invalid_tool_calls":[],"additional_kwargs":{},"response_metadata":{}',
  '","additional_kwargs":{},"response_metadata":{}',
  ',"tool_calls":[],"invalid_tool_calls":[]',
  ',"additional_kwargs":{}',
  ',"response_metadata":{}',
  ',"additional_kwargs":{',
  ',"response_metadata":{',
  ',"tool_calls":[]',
  ',"invalid_tool_calls":[]',
  ',"tool_call_chunks":[]',
  ',"tool_calls":[',
  ',"invalid_tool_calls":[',
  ',"tool_call_chunks":[',
  '"content":',
  ',"id":"',
  '"}}',
  ',"tool_call_id":"',
  ',"name":"',
  '{"name":"',
  '","args":',
  ',"type":"tool_call"',
  '{"lc":2,"type":"undefined"}',
  // two-byte codes 0x1F 0x20..
  '{"lc":2,"type":"delta_snapshot","value":',
  ',"usage_metadata":{"input_tokens":',
  ',"output_tokens":',
  ',"total_tokens":',
  ',"input_token_details":{',
  ',"output_token_details":{',
  '"cache_read":',
  '"cache_creation":',
  '"reasoning":',
  ',"status":"success"',
  ',"status":"error"',
  ',"artifact":',
  ',"role":"',
  ',"type":"invalid_tool_call"',
  ',"type":"tool_call_chunk"',
  ',"error":',
  ',"index":',
  '{"type":"text","text":"',
  ',"tool_call_id":',
  ',"name":',
  ',"id":',
];

/** The value type of a value tokenized with the current dictionary (what writers store). */
export const MESSAGE_TOKENS_TYPE = "jt1";

/** Whether a stored value type names a message-token dictionary (known or not): `jt` and a number. */
export function isMessageTokensType(type: string): boolean {
  return TOKENS_TYPE.test(type);
}

const TOKENS_TYPE = /^jt[0-9]+$/;

/** A dictionary as the reader uses it. */
interface Dictionary {
  /** The phrase a code (one or two characters) stands for; throws for a code that names none. */
  readonly phraseOf: (code: string) => string;
  /** Longest phrase (bounds how far a value can expand). */
  readonly longest: number;
}

function codeOf(index: number): string {
  return index < 30 ? String.fromCharCode(index + 1) : `\u001f${String.fromCharCode(0x20 + index - 30)}`;
}

function dictionaryOf(phrases: readonly string[]): Dictionary {
  if (phrases.length > 30 + 95) throw new Error("a message-token dictionary holds at most 125 phrases");
  // By the code's last character: one-byte codes by their byte, two-byte codes by their second byte.
  const single: (string | undefined)[] = new Array(0x20).fill(undefined);
  const escaped: (string | undefined)[] = new Array(0x80).fill(undefined);
  phrases.forEach((phrase, i) => {
    if (i < 30) single[i + 1] = phrase;
    else escaped[0x20 + i - 30] = phrase;
  });
  return {
    phraseOf: (code) => {
      const phrase = code.length === 1 ? single[code.charCodeAt(0)] : escaped[code.charCodeAt(1)];
      if (phrase === undefined) {
        throw new Error(`it holds the byte sequence ${JSON.stringify(code)}, which is no message-token code`);
      }
      return phrase;
    },
    longest: Math.max(...phrases.map((phrase) => phrase.length)),
  };
}

/** The dictionaries by value type. */
const DICTIONARIES: ReadonlyMap<string, Dictionary> = new Map([["jt1", dictionaryOf(MESSAGE_TOKENS_1)]]);

const PHRASE_PATTERN = longestFirstPattern(MESSAGE_TOKENS_1);
const CODE_OF: ReadonlyMap<string, string> = new Map(MESSAGE_TOKENS_1.map((phrase, i) => [phrase, codeOf(i)]));

/** What tokenize returns: the tokenized text and how many characters the codes saved. */
export interface Tokenized {
  readonly text: string;
  readonly saved: number;
}

/**
 * `json` with the current dictionary's phrases replaced by their codes, and the characters saved (0: nothing
 * replaced). `json` must hold no character below U+0020 (JSON.stringify's output never does).
 */
export function tokenize(json: string): Tokenized {
  let saved = 0;
  const text = json.replace(PHRASE_PATTERN, (phrase) => {
    const code = CODE_OF.get(phrase) as string;
    saved += phrase.length - code.length;
    return code;
  });
  return { text, saved };
}

/** Whether a JSON text may hold a phrase worth a pass: only LangChain and LangGraph records (`"lc":`) do. */
export function mayHoldMessages(json: string): boolean {
  return json.includes('{"lc":');
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control bytes are the codes.
const CONTROL = /[\u0000-\u001f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control bytes are the codes.
const CODE_PATTERN = /\u001f[\s\S]?|[\u0000-\u001e]/g;

/**
 * The serializer's own JSON bytes (the path that does not go through json-dump), tokenized: a second pass over
 * its output, in latin1 so each byte is one character and multi-byte UTF-8 passes through untouched. Undefined
 * when nothing would be saved or the bytes hold a control byte (not JSON text as JSON.stringify writes it).
 */
export function tokenizeBytes(bytes: Uint8Array): Buffer | undefined {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  if (!mayHoldMessages(text) || CONTROL.test(text)) return undefined;
  const tokenized = tokenize(text);
  return tokenized.saved === 0 ? undefined : Buffer.from(tokenized.text, "latin1");
}

/**
 * Whether a value of type `type` stored in `byteLength` bytes expands to at most `maxChars` characters, whatever it
 * holds (false for a dictionary this release does not know): such a value needs no count before expand().
 */
export function cannotExpandPast(type: string, byteLength: number, maxChars: number): boolean {
  const dictionary = DICTIONARIES.get(type);
  return dictionary !== undefined && byteLength * dictionary.longest <= maxChars;
}

/**
 * The JSON text a value of type `type` (isMessageTokensType) stands for. Throws (the caller reports it as CorruptCheckpointError at the value's key) for a dictionary
 * this release does not know, a code that names no phrase, or a text that would expand past `maxChars`.
 */
export function expand(type: string, bytes: Uint8Array, maxChars: number): string {
  const dictionary = DICTIONARIES.get(type);
  if (dictionary === undefined) {
    throw new Error(
      `its value type ${JSON.stringify(type)} names a message-token dictionary this release does not know ` +
        "(written by a later release?)",
    );
  }
  // UTF-8 decoding keeps each code byte as one character (0x1F's second byte is ASCII).
  const text = (
    Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  ).toString("utf8");
  // Codes expand at most `longest` times: only a large value can exceed the limit, so only it is counted first.
  if (text.length * dictionary.longest > maxChars) {
    let length = text.length;
    for (const code of text.matchAll(CODE_PATTERN)) length += dictionary.phraseOf(code[0]).length - code[0].length;
    if (length > maxChars) {
      throw new Error(`it would expand to ${length} characters, more than maxValueBytes (${maxChars})`);
    }
  }
  return text.replace(CODE_PATTERN, dictionary.phraseOf);
}

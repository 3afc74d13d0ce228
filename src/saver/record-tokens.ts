/**
 * Token packing of checkpoint records (packing id 2 of FrameFormat.PACKED_RECORD, see record.ts): the JSON text
 * LangGraph repeats in every checkpoint and its metadata (field names, `__start__`, `branch:to:`, the metadata
 * sources) is replaced by single control bytes. JSON text never holds a raw byte below 0x20 (JSON.stringify escapes
 * them), so bytes 0x01 to 0x1F are free to stand for RECORD_TOKENS[0] to [30] and the packed form reads back exactly.
 * It saves about as much as deflate with a preset dictionary (packing id 1) on a typical record for a fifth of its
 * CPU: one regular-expression pass each way, and no zlib stream to set up per record.
 *
 * The table, once released, never changes (records written with it must stay readable); a new table gets a new
 * packing id. Only JSON values without control bytes are packed this way (anything else gets packing id 1 or stays
 * PLAIN).
 */
import { longestFirstPattern } from "./phrase-pattern.js";

/** Packing id 2: LangGraph 1.x checkpoints (format v4) and their metadata, as JsonPlusSerializer writes them. */
export const RECORD_TOKENS: readonly string[] = [
  '{"v":4,"id":"',
  '","ts":"',
  '","channel_versions":{"__start__":',
  '","channel_versions":{',
  '},"versions_seen":{"__input__":{},"__start__":{"__start__":',
  '},"versions_seen":{',
  '},"channel_values":{}}',
  '"__start__":',
  '"branch:to:',
  '"__input__":{}',
  '"__pregel_tasks":',
  '"__interrupt__":',
  '"messages":',
  '{"source":"loop","step":',
  '{"source":"input","step":',
  '{"source":"update","step":',
  '{"source":"fork","step":',
  ',"parents":{}',
  ',"parents":{"',
  ',"delta_writes_versioned":true',
  ',"counters_since_delta_snapshot":{',
  ',"run_id":"',
  ',"thread_id":"',
  ',"writes":',
  '"tools":',
  '"agent":',
  '":{"',
  '},"',
  '","',
];

const TOKEN_PATTERN = longestFirstPattern(RECORD_TOKENS);
const CODE_OF = new Map(RECORD_TOKENS.map((token, i) => [token, String.fromCharCode(i + 1)]));
const TOKEN_LENGTHS = RECORD_TOKENS.map((token) => token.length);
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control bytes are the tokens.
const CONTROL_BYTE = /[\x00-\x1f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control bytes are the tokens.
const TOKEN_BYTE = /[\x00-\x1f]/g;

/** The packed bytes of a JSON value, or undefined when it holds a control byte (it is not JSON text, or not ours). */
export function tokenize(bytes: Uint8Array): Buffer | undefined {
  // latin1 maps each byte to one UTF-16 unit and back, so multi-byte UTF-8 passes through untouched.
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  if (CONTROL_BYTE.test(text)) return undefined;
  return Buffer.from(
    text.replace(TOKEN_PATTERN, (token) => CODE_OF.get(token) as string),
    "latin1",
  );
}

/**
 * The bytes a tokenized value stands for; `fail(detail)` for a byte that names no token (0x00, or past the table),
 * and when they would exceed `maxBytes` (checked before they are built).
 */
export function untokenize(
  packed: Buffer,
  maxBytes: number,
  fail: (detail: string, tooLarge: boolean) => never,
): Buffer {
  let length = 0;
  for (let i = 0; i < packed.length; i++) {
    const byte = packed[i] as number;
    if (byte >= 0x20) length += 1;
    else if (byte === 0 || byte > TOKEN_LENGTHS.length) fail(`unknown record token ${byte}`, false);
    else length += TOKEN_LENGTHS[byte - 1] as number;
  }
  if (length > maxBytes) fail(`it would unpack to ${length} bytes, over the limit of ${maxBytes}`, true);
  return Buffer.from(
    packed.toString("latin1").replace(TOKEN_BYTE, (code) => RECORD_TOKENS[code.charCodeAt(0) - 1] as string),
    "latin1",
  );
}

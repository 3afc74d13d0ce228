/**
 * The stored form of a checkpoint record (the `checkpoints` hash value): its refs text, the checkpoint without its
 * channel values and the metadata, each serialised value as (type, bytes).
 *
 * - PLAIN (format 1): [refs, checkpoint type, checkpoint bytes, metadata type, metadata bytes]. Every release
 *   reads it; `compression: false` writes only this.
 * - PACKED_RECORD (format 6): [refs, packed]. The refs stay the plain first part, the only part Lua reads; `packed`
 *   is one packing id byte, then the other four parts packed that way. Most of a record is LangGraph's JSON
 *   boilerplate:
 *   - id 2 (record-tokens.ts): a PLAIN frame of the four parts with the two JSON values token-packed (their common
 *     text replaced by single control bytes): a 440-byte checkpoint and metadata pack to about 180, in a few
 *     microseconds. Written whenever both values are JSON text (LangGraph's own serializer).
 *   - id 3: as id 2, with the checkpoint's id and channel_versions left out of its JSON: the field and the refs
 *     hold them (record-derived.ts), about 80 bytes of a typical record; and instead of the PLAIN frame of four
 *     parts (25 bytes of lengths and type names), the checkpoint's packed length as an unsigned LEB128 varint, then
 *     the two packed values (both of type "json"). Written whenever reading restores the serializer's exact bytes
 *     (LangGraph's checkpoints, whose versions are numbers); id 2 otherwise.
 *   - id 4: as id 3, with the checkpoint's `ts` stored as its offset from the time in its id (record-derived.ts),
 *     24 bytes less. Written when the id is a version 6 UUID (LangGraph's) and the offset restores `ts` exactly.
 *   - id 1 (record-dictionary.ts): raw deflate of the PLAIN frame of the four parts with a preset dictionary (about
 *     120 bytes for the same record, but setting up a zlib stream per record costs about 20 us more per put).
 *     Written when token packing does not save an eighth (values of other serializers, large repetitive metadata)
 *     and deflate does.
 *
 * A record is packed only when that saves at least an eighth (a ciphertext from an encrypting serializer does not
 * shrink and stays PLAIN) and when its PLAIN frame fits in `maxValueBytes`, the limit a reader inflates with, so a
 * saver with the same limit can always read what it wrote. Deflated records up to PACK_SYNC_MAX_BYTES (a few channels and
 * small metadata: nearly all of them) are deflated in the calling thread, where a small window and memLevel keep it
 * around 13 us; larger ones go to zlib's thread pool, so a record with many channels or big metadata does not hold
 * up the event loop.
 */
import { promisify } from "node:util";
import { deflateRaw, deflateRawSync, type ZlibOptions } from "node:zlib";
import { decompress, decompressSync } from "../compression.js";
import { CorruptCheckpointError, DecompressionLimitError } from "../errors.js";
import { describeSource, FrameFormat, type FrameSource, frame, framedLength, unframeAs } from "./codec.js";
import { leaveOutDerived, restoreDerived } from "./record-derived.js";
import { CURRENT_RECORD_DICTIONARY_ID, RECORD_DICTIONARIES } from "./record-dictionary.js";
import { tokenize, untokenize } from "./record-tokens.js";
import { readVarint, varintEnd, varintLength, writeVarint } from "./varint.js";

/** The packing id of token-packed records (record-tokens.ts); ids 1 and up to it are deflate dictionaries. */
const TOKENS_PACKING_ID = 2;
/** Token-packed, with the checkpoint's id and channel_versions left to the field and the refs (record-derived.ts). */
const DERIVED_TOKENS_PACKING_ID = 3;
/** As DERIVED_TOKENS_PACKING_ID, with the checkpoint's timestamp as its offset from its id's time. */
const DERIVED_TS_TOKENS_PACKING_ID = 4;

const deflateRawAsync = promisify(deflateRaw);

/** PLAIN frames of the four packed parts up to this size are deflated synchronously; larger ones on the pool. */
export const PACK_SYNC_MAX_BYTES = 8 * 1024;
/** Packed parts up to this size are inflated synchronously (at most about 1,000x that inflated). */
const UNPACK_SYNC_MAX_BYTES = 2 * 1024;

const CURRENT_DICTIONARY = RECORD_DICTIONARIES.get(CURRENT_RECORD_DICTIONARY_ID) as Buffer;
/** Small records: a 4 KiB window holds the dictionary and the record; memLevel 4 keeps zlib's setup cheap. */
const SYNC_OPTIONS: ZlibOptions = {
  level: 6,
  windowBits: 12,
  memLevel: 4,
  chunkSize: 1024,
  dictionary: CURRENT_DICTIONARY,
};
const ASYNC_OPTIONS: ZlibOptions = { level: 6, dictionary: CURRENT_DICTIONARY };

/** The parts of a record after its refs: checkpoint type and bytes, metadata type and bytes. */
export type RecordValues = readonly [string, Uint8Array, string, Uint8Array];

/** The decoded parts of a stored record: refs text, then RecordValues as Buffers. */
export type RecordParts = [Buffer, Buffer, Buffer, Buffer, Buffer];

export interface EncodeRecordOptions {
  /** Pack when it pays (the saver's `compression` option is not `false`). */
  pack: boolean;
  /** The saver's maxValueBytes: a record whose PLAIN frame is larger stays PLAIN (see the module comment). */
  maxValueBytes: number;
  /** The checkpoint's id (its hash field): what packing id 3 leaves out of the checkpoint's JSON. */
  checkpointId: string;
  /** The refs' [channel, version text] lines, when the caller built the refs from them (saves parsing them back). */
  versions?: readonly (readonly [string, string])[];
}

/**
 * The stored bytes of a record: PACKED_RECORD when packing is on and saves an eighth, PLAIN otherwise. A Promise only
 * when the record goes to zlib's thread pool (see the module comment); every other record comes back at once, so a
 * put does not wait a turn of the event loop for it.
 */
export function encodeRecord(
  refs: string,
  values: RecordValues,
  options: EncodeRecordOptions,
): Buffer | Promise<Buffer> {
  if (!options.pack) return frame([refs, ...values]);
  // The PLAIN frame of the four parts is only built for deflate; token packing needs its length.
  const innerLength = framedLength(values);
  if (innerLength > options.maxValueBytes) return frame([refs, ...values]);
  const [checkpointType, checkpointBytes, metadataType, metadataBytes] = values;
  const reduced =
    checkpointType === "json"
      ? leaveOutDerived(checkpointBytes, options.checkpointId, refs, options.versions)
      : undefined;
  const checkpointTokens = checkpointType === "json" ? tokenize(reduced?.bytes ?? checkpointBytes) : undefined;
  const metadataTokens = checkpointTokens && metadataType === "json" ? tokenize(metadataBytes) : undefined;
  if (checkpointTokens && metadataTokens) {
    const packed = reduced
      ? Buffer.concat([
          Buffer.of(reduced.timestamp ? DERIVED_TS_TOKENS_PACKING_ID : DERIVED_TOKENS_PACKING_ID),
          encodeVarint(checkpointTokens.length),
          checkpointTokens,
          metadataTokens,
        ])
      : Buffer.concat([
          Buffer.of(TOKENS_PACKING_ID),
          frame([checkpointType, checkpointTokens, metadataType, metadataTokens]),
        ]);
    if (packed.length <= innerLength - (innerLength >> 3)) return frame([refs, packed], FrameFormat.PACKED_RECORD);
    // Not LangGraph's boilerplate (large or unusual values): deflate may still pay, below.
  }
  // LangGraph's JSON reaches deflate only when token packing did not pay (unusual values): always tried. Other types
  // (another serializer's, ciphertext) go straight here, record after record.
  const pair = checkpointType === "json" && metadataType === "json" ? undefined : `${checkpointType}\0${metadataType}`;
  if (pair !== undefined && skipDeflate(pair)) return frame([refs, ...values]);
  const inner = frame(values);
  if (inner.length <= PACK_SYNC_MAX_BYTES)
    return deflatedRecord(refs, values, inner, deflateRawSync(inner, SYNC_OPTIONS), pair);
  return deflateRawAsync(inner, ASYNC_OPTIONS).then((deflated) => deflatedRecord(refs, values, inner, deflated, pair));
}

/**
 * Deflate attempts in a row that did not pay, per pair of value types (checkpoint, metadata) other than LangGraph's
 * JSON. An EncryptedSerializer's ciphertext never shrinks, and a zlib stream costs about 30 us per record: after DEFLATE_MISSES_BEFORE_BACKOFF misses
 * in a row, a pair is tried only once every DEFLATE_RETRY_EVERY records (its values may become compressible), until
 * an attempt pays again. Serializers use a handful of types; past DEFLATE_PAIRS_LIMIT pairs the counts start over.
 */
const deflateMisses = new Map<string, number>();
const DEFLATE_MISSES_BEFORE_BACKOFF = 8;
const DEFLATE_RETRY_EVERY = 64;
const DEFLATE_PAIRS_LIMIT = 64;

function skipDeflate(pair: string): boolean {
  const misses = deflateMisses.get(pair);
  if (misses === undefined || misses < DEFLATE_MISSES_BEFORE_BACKOFF) return false;
  if ((misses - DEFLATE_MISSES_BEFORE_BACKOFF) % DEFLATE_RETRY_EVERY === DEFLATE_RETRY_EVERY - 1) return false;
  deflateMisses.set(pair, misses + 1);
  return true;
}

function deflatedRecord(
  refs: string,
  values: RecordValues,
  inner: Buffer,
  deflated: Buffer,
  pair: string | undefined,
): Buffer {
  // The id byte is part of the cost: keep the packed form only when the whole value shrinks by an eighth.
  if (1 + deflated.length > inner.length - (inner.length >> 3)) {
    if (pair === undefined) return frame([refs, ...values]);
    if (deflateMisses.size >= DEFLATE_PAIRS_LIMIT && !deflateMisses.has(pair)) deflateMisses.clear();
    deflateMisses.set(pair, (deflateMisses.get(pair) ?? 0) + 1);
    return frame([refs, ...values]);
  }
  if (pair !== undefined) deflateMisses.delete(pair);
  const packed = Buffer.allocUnsafe(1 + deflated.length);
  packed[0] = CURRENT_RECORD_DICTIONARY_ID;
  deflated.copy(packed, 1);
  return frame([refs, packed], FrameFormat.PACKED_RECORD);
}

/**
 * The parts of a stored record, PLAIN or PACKED_RECORD (wrapped or not: unwrapRecord), with `checkpointId` its field's id. Bytes that are neither,
 * a packed part that does not inflate to a PLAIN frame of four parts, or an unknown dictionary id throw
 * CorruptCheckpointError naming the key; a packed part that would inflate past `maxBytes` throws
 * DecompressionLimitError before that memory is taken.
 */
export async function decodeRecord(
  bytes: Buffer,
  source: FrameSource,
  maxBytes: number,
  checkpointId: string,
): Promise<RecordParts> {
  const { format, parts } = splitRecord(bytes, source);
  if (format === FrameFormat.PLAIN) return parts as RecordParts;
  const [refs, packed] = parts as [Buffer, Buffer];
  const innerSource = { key: source.key, what: () => `the packed part of ${describeSource(source)}` };
  const derived = packed[0] === DERIVED_TOKENS_PACKING_ID || packed[0] === DERIVED_TS_TOKENS_PACKING_ID;
  if (packed[0] === TOKENS_PACKING_ID || derived) {
    const fail = (detail: string, tooLarge: boolean): never => {
      if (tooLarge) throw new DecompressionLimitError(source.key, describeSource(source), maxBytes);
      throw new CorruptCheckpointError(source.key, `${describeSource(source)} cannot be decoded (${detail})`);
    };
    const [checkpointType, checkpointTokens, metadataType, metadataTokens] = derived
      ? splitCompact(packed, fail)
      : (unframeAs(packed.subarray(1), innerSource, [FrameFormat.PLAIN], [4]).parts as [
          Buffer,
          Buffer,
          Buffer,
          Buffer,
        ]);
    let checkpointBytes = untokenize(checkpointTokens, maxBytes, fail);
    if (derived) {
      const timestamp = packed[0] === DERIVED_TS_TOKENS_PACKING_ID;
      const restored = restoreDerived(checkpointBytes, checkpointId, refs.toString("utf8"), timestamp);
      if (restored === undefined) return fail("no timestamp offset to restore", false);
      checkpointBytes = restored;
      if (checkpointBytes.length > maxBytes) fail("", true);
    }
    const metadataBytes = untokenize(metadataTokens, maxBytes - checkpointBytes.length, fail);
    return [refs, checkpointType, checkpointBytes, metadataType, metadataBytes];
  }
  const inner = await unpack(packed, source, maxBytes);
  const values = unframeAs(inner, innerSource, [FrameFormat.PLAIN], [4]).parts;
  return [refs, ...values] as RecordParts;
}

const JSON_TYPE = Buffer.from("json");

/** The four parts of a packing id 3 or 4 value: [id][varint checkpoint length][checkpoint tokens][metadata tokens]. */
function splitCompact(packed: Buffer, fail: (detail: string, tooLarge: boolean) => never): RecordValuesBuffers {
  const length = readVarint(packed, 1, packed.length);
  if (length < 0) return fail("truncated packed length", false);
  const offset = varintEnd;
  if (offset + length > packed.length) return fail("packed length past the end", false);
  return [JSON_TYPE, packed.subarray(offset, offset + length), JSON_TYPE, packed.subarray(offset + length)];
}

type RecordValuesBuffers = [Buffer, Buffer, Buffer, Buffer];

/** `value` as an unsigned LEB128 varint (varint.ts). */
function encodeVarint(value: number): Buffer {
  const out = Buffer.allocUnsafe(varintLength(value));
  writeVarint(out, 0, value);
  return out;
}

/** The refs text of a stored record, PLAIN or PACKED_RECORD, without unpacking the rest (what Lua's refsOf reads). */
export function recordRefs(bytes: Buffer, source: FrameSource): string {
  return (splitRecord(bytes, source).parts[0] as Buffer).toString("utf8");
}

/**
 * A stored record as the record and the pending-write bundle it carries (FrameFormat.RECORD_WITH_WRITES; undefined
 * for a record that carries none). A wrapper whose length runs past its end throws CorruptCheckpointError.
 */
export function unwrapRecord(bytes: Buffer, source: FrameSource): { record: Buffer; bundle: Buffer | undefined } {
  if (bytes[0] !== FrameFormat.RECORD_WITH_WRITES) return { record: bytes, bundle: undefined };
  const end = bytes.length >= 5 ? 5 + bytes.readUInt32BE(1) : Number.POSITIVE_INFINITY;
  if (end > bytes.length || end === 5) {
    throw new CorruptCheckpointError(
      source.key,
      `${describeSource(source)} cannot be decoded (its pending-writes wrapper is damaged)`,
    );
  }
  return { record: bytes.subarray(5, end), bundle: bytes.subarray(end) };
}

/** The framed parts of a record: five when PLAIN, two when PACKED_RECORD; anything else is corrupt. */
function splitRecord(stored: Buffer, source: FrameSource): { format: FrameFormat; parts: Buffer[] } {
  const bytes = unwrapRecord(stored, source).record;
  const split = unframeAs(bytes, source, [FrameFormat.PLAIN, FrameFormat.PACKED_RECORD], [5, 2]);
  const expected = split.format === FrameFormat.PLAIN ? 5 : 2;
  if (split.parts.length !== expected) {
    throw new CorruptCheckpointError(
      source.key,
      `${describeSource(source)} cannot be decoded (expected ${expected} parts, found ${split.parts.length})`,
    );
  }
  return split;
}

async function unpack(packed: Buffer, source: FrameSource, maxBytes: number): Promise<Buffer> {
  const dictionaryId = packed[0];
  const dictionary = dictionaryId === undefined ? undefined : RECORD_DICTIONARIES.get(dictionaryId);
  if (dictionary === undefined) {
    throw new CorruptCheckpointError(
      source.key,
      `${describeSource(source)} cannot be decoded (${
        dictionaryId === undefined ? "empty packed part" : `unknown record dictionary ${dictionaryId}`
      })`,
    );
  }
  const what = () => describeSource(source);
  const deflated = packed.subarray(1);
  return deflated.length <= UNPACK_SYNC_MAX_BYTES
    ? decompressSync(deflated, maxBytes, source.key, what, CorruptCheckpointError, dictionary)
    : decompress(deflated, maxBytes, source.key, what, CorruptCheckpointError, dictionary);
}

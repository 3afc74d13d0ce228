/**
 * Byte layouts the saver stores, shared by the write and read modules.
 *
 * - Hash fields and index members join escaped parts with NUL: `ns\0id`, `ns\0channel\0version`,
 *   `ns\0id\0taskId\0idx`. `escapePart` removes NUL and newline from every part, so a part can never fake a
 *   separator, and one namespace (or checkpoint) is exactly the lex range `[x\0`, `(x\x01`.
 * - Values are framed: one format byte, then each part as a 4-byte big-endian length and its bytes. Only
 *   TypeScript decodes values; Lua reads at most a frame's first part (the refs of a record, the base version of a
 *   delta blob) and, of a pending write, its task id, channel and idx parts. Format bytes are listed in FrameFormat.
 * - Pending writes of one checkpoint: the first ones share one `writes` hash field, its checkpoint field `ns\0id`,
 *   holding a bundle: the framed writes one after another, each preceded by its length (splitWriteBundle), as long
 *   as the bundle stays within a few KiB; any other write has its own field `ns\0id\0taskId\0idx` (writeField),
 *   indexed in writesIndex, as every write had in earlier releases. The bound keeps each putWrites' work fixed
 *   however many tasks a step fans out to; the bundle saves an ordinary step the per-write field and index entry.
 *   src/lua/include/pendingWrites.lua keeps one write per (taskId, idx). A write is a PACKED_WRITE frame (see
 *   packWrite), its bundle entry length a varint; with `compression: false`, the form earlier releases wrote: a
 *   PLAIN or DEFLATED frame [taskId, channel, type, bytes, taskPath, idx] after a 4-byte big-endian length (whose
 *   first byte, 0, tells the two entry kinds apart: a varint length of a non-empty frame never starts with 0).
 */
import { CorruptCheckpointError } from "../errors.js";

/**
 * The first byte of a frame. Records are PLAIN or PACKED_RECORD; writes are PLAIN, DEFLATED or PACKED_WRITE; blobs
 * may be PLAIN, DEFLATED, DELTA, DELTA_DEFLATED or IN_HISTORY.
 * - PLAIN: the parts as given (a blob: [type, bytes], or none for a cleared channel).
 * - DEFLATED: as PLAIN, but the value-bytes part is raw deflate (see src/compression.ts).
 * - DELTA: a blob stored as an earlier version of the same channel plus what differs:
 *   [base version (escaped), stored length of the base blob, shared prefix length, type, suffix bytes]; the value is
 *   the first `prefix length` bytes of the base's value followed by the suffix (see blob-delta.ts).
 * - DELTA_DEFLATED: as DELTA, with the suffix raw deflate.
 * - IN_HISTORY: one fixed part, "in-history" (IN_HISTORY_MARKER); a DeltaChannel written at this version without a
 *   value: LangGraph rebuilds it from the ancestors' writes (getDeltaChannelHistory). Read like a cleared channel;
 *   retention and delta history compare the same bytes (IN_HISTORY_MARKER in src/lua/include/checkpointRefs.lua).
 *   The fixed part keeps a damaged blob (a lone format byte) from reading as an absent value: only the exact
 *   marker does. Written only with `compression: false` now (as earlier releases wrote it for every such version);
 *   otherwise the record's refs say it (inHistoryRef) and no blob is stored. Both stay readable, side by side.
 * - PACKED_RECORD: a checkpoint record as [refs text, packed]: the refs stay plain (Lua reads them), `packed` is a
 *   dictionary id byte and the raw deflate, with that preset dictionary, of the PLAIN frame of the record's other
 *   parts (record.ts, record-dictionary.ts). Releases before it cannot read it.
 * - PACKED_WRITE: a pending write with varint lengths, its task id and path written once per run of writes of the
 *   same task in a bundle (see packWrite). Releases before it cannot read it.
 * - RECORD_WITH_WRITES: a stored checkpoint record that carries its checkpoint's pending-write bundle: the format
 *   byte, the record's length (4 bytes big-endian), the record (PLAIN or PACKED_RECORD) unchanged, then the bundle
 *   to the end (src/lua/include/recordWrites.lua writes it; unwrapRecord reads it). Not a framed value: only records
 *   take this form. Releases before it cannot read it.
 * Older releases wrote only PLAIN, so everything they stored stays readable.
 */
export const FrameFormat = {
  PLAIN: 1,
  DELTA: 2,
  DEFLATED: 3,
  DELTA_DEFLATED: 4,
  IN_HISTORY: 5,
  PACKED_RECORD: 6,
  PACKED_WRITE: 7,
  RECORD_WITH_WRITES: 8,
} as const;
export type FrameFormat = (typeof FrameFormat)[keyof typeof FrameFormat];

const FORMAT = FrameFormat.PLAIN;

const NEEDS_ESCAPE = /[%\0\n]/;

/** Escapes `%`, NUL and newline as %XX (reversible; UTF-8 of everything else is untouched). */
export function escapePart(part: string): string {
  // Most parts (uuids, channel names, versions) need no escape: skip the replace and its callback.
  if (!NEEDS_ESCAPE.test(part)) return part;
  return part.replace(/[%\0\n]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
}

export function unescapePart(escaped: string): string {
  if (!escaped.includes("%")) return escaped;
  return escaped.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** `ns\0id`: the checkpoints/refs hash field and the byNamespace member of one checkpoint. */
export function checkpointField(ns: string, checkpointId: string): string {
  return `${escapePart(ns)}\0${escapePart(checkpointId)}`;
}

/** `channel\0version`: one line of a checkpoint's refs (the blob field minus its namespace). */
export function blobRef(channel: string, version: string | number): string {
  return `${escapePart(channel)}\0${escapePart(String(version))}`;
}

export function blobField(ns: string, channel: string, version: string | number): string {
  return `${escapePart(ns)}\0${blobRef(channel, version)}`;
}

/**
 * The refs line naming the run a checkpoint was put by: byte 2, then the escaped run id (no NUL, so the readers of
 * `channel\0version` lines skip it). The run index keeps one member per (run, namespace) and finds the run's
 * checkpoints by this line (include runIndex).
 */
export function runRefsLine(runId: string): string {
  return `\x02${escapePart(runId)}`;
}

export function writeField(ns: string, checkpointId: string, taskId: string, idx: number): string {
  return `${checkpointField(ns, checkpointId)}\0${escapePart(taskId)}\0${idx}`;
}

/**
 * Refs text: the parent id (empty for none) on the first line, then one blob ref per channel version, then lines of
 * other kinds. Such a line holds no NUL and starts with a byte saying its kind (inHistoryRef, runRefsLine); readers
 * skip every line after the first that holds no NUL, so kinds they do not know cost them nothing.
 */
export function encodeRefs(parentId: string | undefined, refs: readonly string[]): string {
  return [escapePart(parentId ?? ""), ...refs].join("\n");
}

/**
 * The refs line `\x01<channel, escaped>`: the channel's version in this checkpoint is a DeltaChannel value left to
 * the ancestors' writes (what the IN_HISTORY marker blob said in earlier releases, and still says with
 * `compression: false`). Listed in every record where it holds, whether or not the checkpoint changed the channel,
 * so retention learns it from the kept record alone (src/lua/include/checkpointRefs.lua, refsInHistory).
 */
export function inHistoryRef(channel: string): string {
  return `\x01${escapePart(channel)}`;
}

/**
 * The refs line `\x03<channel, escaped>`: the channel's value in this checkpoint is JSON null (LangGraph's
 * `branch:to:*` channels at nearly every step), and no blob is stored for it. Listed in every record where it holds,
 * whether or not the checkpoint changed the channel. Written only with LangGraph's plain serializer and compression
 * on; readers take the channel as null whether or not a blob is stored (earlier records keep theirs).
 */
export function nullValueRef(channel: string): string {
  return `\x03${escapePart(channel)}`;
}

export interface DecodedRefs {
  parentId: string | undefined;
  /** [channel, version text] per line, in stored order (the order the read script returns blob values in). */
  channels: [string, string][];
  /** The channels named on a null-value line (nullValueRef); absent when there are none. */
  nulls?: Set<string>;
}

export function decodeRefs(text: string): DecodedRefs {
  const [parent = "", ...lines] = text.split("\n");
  const channels: [string, string][] = [];
  let nulls: Set<string> | undefined;
  for (const line of lines) {
    const cut = line.indexOf("\0");
    // A line of another kind (no NUL; see encodeRefs): in-history, the run line, a null value.
    if (cut < 0) {
      if (line.charCodeAt(0) === 3) {
        nulls ??= new Set();
        nulls.add(unescapePart(line.slice(1)));
      }
      continue;
    }
    channels.push([unescapePart(line.slice(0, cut)), unescapePart(line.slice(cut + 1))]);
  }
  const parentId = parent === "" ? undefined : unescapePart(parent);
  return nulls === undefined ? { parentId, channels } : { parentId, channels, nulls };
}

/** Splits a `ns\0id` field back into its parts. */
export function decodeCheckpointField(field: string): { ns: string; checkpointId: string } {
  const cut = field.indexOf("\0");
  return { ns: unescapePart(field.slice(0, cut)), checkpointId: unescapePart(field.slice(cut + 1)) };
}

export type FramePart = Uint8Array | string;

/** Frames parts into one Buffer (see the module comment); `format` is the first byte (PLAIN by default). */
export function frame(parts: readonly FramePart[], format: FrameFormat = FORMAT): Buffer {
  // Text parts are encoded straight into the frame (no Buffer of their own).
  const out = Buffer.allocUnsafe(framedLength(parts));
  out[0] = format;
  let offset = 1;
  for (const part of parts) {
    const length = typeof part === "string" ? out.write(part, offset + 4, "utf8") : part.byteLength;
    if (typeof part !== "string") out.set(part, offset + 4);
    out.writeUInt32BE(length, offset);
    offset += 4 + length;
  }
  return out;
}

/** The length in bytes of frame(parts), without building it. */
export function framedLength(parts: readonly FramePart[]): number {
  let length = 1;
  for (const part of parts)
    length += 4 + (typeof part === "string" ? Buffer.byteLength(part, "utf8") : part.byteLength);
  return length;
}

/** The whole stored blob of a DeltaChannel version left to history (format IN_HISTORY, see the module comment). */
export const IN_HISTORY_MARKER: Buffer = frame(["in-history"], FrameFormat.IN_HISTORY);

/** Whether a stored blob is exactly the IN_HISTORY marker. */
export function isInHistoryMarker(blob: Uint8Array): boolean {
  return IN_HISTORY_MARKER.equals(blob);
}

/** Where a frame came from, for the CorruptCheckpointError that names it. */
export interface FrameSource {
  key: string;
  /** What the frame holds; a function when describing it costs work (built only on failure). */
  what: string | (() => string);
}

export function describeSource(source: FrameSource): string {
  return typeof source.what === "function" ? source.what() : source.what;
}

/** Splits a PLAIN frame into its parts; any count but `counts` throws CorruptCheckpointError naming the key. */
export function unframe(bytes: Buffer, source: FrameSource, ...counts: number[]): Buffer[] {
  return unframeAs(bytes, source, [FORMAT], counts).parts;
}

/**
 * Splits a frame of one of `formats` into its parts; another format, or a part count not in `counts`, throws
 * CorruptCheckpointError naming the key.
 */
export function unframeAs(
  bytes: Buffer,
  source: FrameSource,
  formats: readonly FrameFormat[],
  counts: readonly number[],
): { format: FrameFormat; parts: Buffer[] } {
  const fail = (detail: string): never => {
    throw new CorruptCheckpointError(source.key, `${describeSource(source)} cannot be decoded (${detail})`);
  };
  const format = bytes[0] as FrameFormat | undefined;
  if (format === undefined || !formats.includes(format)) fail(`unknown format byte ${format ?? "(empty value)"}`);
  const parts: Buffer[] = [];
  let offset = 1;
  while (offset < bytes.length) {
    if (offset + 4 > bytes.length) fail("truncated length");
    const length = bytes.readUInt32BE(offset);
    if (offset + 4 + length > bytes.length) fail("truncated part");
    parts.push(bytes.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  if (!counts.includes(parts.length)) fail(`expected ${counts.join(" or ")} parts, found ${parts.length}`);
  return { format: format as FrameFormat, parts };
}

/** A Buffer view of a Uint8Array (ioredis would send a plain Uint8Array as "1,2,3" text). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Pending writes as stored: one write's frame, the bundle of a checkpoint's first writes (see the module comment of
 * codec.ts for where each lives), and reading them back. src/lua/include/pendingWrites.lua reads the same bytes.
 *
 * A write is stored in one of two frames:
 * - PLAIN or DEFLATED (earlier releases, and `compression: false`): [taskId, channel, type, bytes, taskPath, idx],
 *   each part after a 4-byte big-endian length; DEFLATED when the bytes are raw deflate.
 * - PACKED_WRITE (packWrite): byte 0 is FrameFormat.PACKED_WRITE, byte 1 its flags (SAME_TASK and DEFLATED below, no
 *   other bit set), then
 *   - the task (left out with SAME_TASK): the task id's length as a varint and its UTF-8 bytes; a varint of
 *     4 * length + prefix and the task path's bytes after its prefix, prefix 0 for none, 1 for "~__pregel_pull, ",
 *     2 for "~__pregel_push, " (LangGraph's paths start so);
 *   - idx (decimal text), channel and type, each after its length as a varint;
 *   - the value's bytes, up to the frame's end (raw deflate with DEFLATED).
 *   Varints are unsigned LEB128: 7 bits a byte, lowest first, the high bit set on every byte but the last.
 * In a bundle each write comes after its length: a PACKED_WRITE frame's as a varint, the other frames' in 4 bytes
 * big-endian as earlier releases wrote them (a bundle holds a few KiB, so their first byte is 0; a varint of a
 * non-empty frame's length never starts with 0). SAME_TASK is set only by the script that appends to a bundle, on a
 * PACKED_WRITE frame whose entry follows a PACKED_WRITE frame of the same task id and path; splitWriteBundle puts the
 * task back, so every frame it returns stands alone, as overflow writes always do.
 */
import { CorruptCheckpointError } from "../errors.js";
import { describeSource, FrameFormat, type FrameSource, unframeAs } from "./codec.js";
import { readVarint, varintEnd, varintLength, writeVarint } from "./varint.js";

/** The flags byte of a PACKED_WRITE frame. */
export const PackedWriteFlag = {
  /** The value's bytes are raw deflate (src/compression.ts). */
  DEFLATED: 1,
  /** The task id and path are those of the write before it in its bundle (the task part is left out). */
  SAME_TASK: 2,
} as const;

/** Task path prefixes stored as a number (index); both are 16 characters long. */
const TASK_PATH_PREFIXES = ["", "~__pregel_pull, ", "~__pregel_push, "] as const;
const PREFIX_LENGTH = 16;

/** A pending write as a PACKED_WRITE frame that stands alone (see the module comment). */
export function packWrite(
  taskId: string,
  channel: string,
  type: string,
  bytes: Uint8Array,
  taskPath: string,
  idx: number,
  deflated: boolean,
): Buffer {
  const prefix = taskPath.startsWith(TASK_PATH_PREFIXES[1]) ? 1 : taskPath.startsWith(TASK_PATH_PREFIXES[2]) ? 2 : 0;
  const path = prefix === 0 ? taskPath : taskPath.slice(PREFIX_LENGTH);
  const idxText = String(idx);
  const taskBytes = Buffer.byteLength(taskId, "utf8");
  const pathBytes = Buffer.byteLength(path, "utf8");
  const channelBytes = Buffer.byteLength(channel, "utf8");
  const typeBytes = Buffer.byteLength(type, "utf8");
  const pathCode = 4 * pathBytes + prefix;
  const out = Buffer.allocUnsafe(
    2 +
      varintLength(taskBytes) +
      taskBytes +
      varintLength(pathCode) +
      pathBytes +
      varintLength(idxText.length) +
      idxText.length +
      varintLength(channelBytes) +
      channelBytes +
      varintLength(typeBytes) +
      typeBytes +
      bytes.byteLength,
  );
  out[0] = FrameFormat.PACKED_WRITE;
  out[1] = deflated ? PackedWriteFlag.DEFLATED : 0;
  let at = writeVarint(out, 2, taskBytes);
  at += out.write(taskId, at, "utf8");
  at = writeVarint(out, at, pathCode);
  at += out.write(path, at, "utf8");
  at = writeVarint(out, at, idxText.length);
  at += out.write(idxText, at, "latin1");
  at = writeVarint(out, at, channelBytes);
  at += out.write(channel, at, "utf8");
  at = writeVarint(out, at, typeBytes);
  at += out.write(type, at, "utf8");
  out.set(bytes, at);
  return out;
}

/** The end of a standalone PACKED_WRITE frame's task part (after byte 1), or -1 when it cannot be read. */
function taskPartEnd(frame: Buffer): number {
  const taskLength = readVarint(frame, 2, frame.length);
  if (taskLength < 0) return -1;
  const pathCode = readVarint(frame, varintEnd + taskLength, frame.length);
  if (pathCode < 0) return -1;
  const end = varintEnd + Math.floor(pathCode / 4);
  return end > frame.length ? -1 : end;
}

/** `write` (a PACKED_WRITE frame with SAME_TASK) with the task part of `previous` (one without) put back. */
function withTaskOf(write: Buffer, previous: Buffer): Buffer {
  const end = taskPartEnd(previous);
  if (end < 0) return write;
  const out = Buffer.allocUnsafe(write.length + end - 2);
  out[0] = FrameFormat.PACKED_WRITE;
  out[1] = (write[1] as number) & ~PackedWriteFlag.SAME_TASK;
  previous.copy(out, 2, 2, end);
  write.copy(out, end, 2);
  return out;
}

/**
 * The writes of a stored bundle (see the module comment), in stored order, each a frame that stands alone. Bytes
 * that are not a whole entry (a truncated or foreign value, or an empty one, which is never stored) end the list as
 * one more value: it is no write frame, so decoding the list reports the corruption with the key it came from.
 */
export function splitWriteBundle(bundle: Buffer): Buffer[] {
  const writes: Buffer[] = [];
  let offset = 0;
  // The last PACKED_WRITE frame with its task part: what a following SAME_TASK frame repeats.
  let previous: Buffer | undefined;
  while (offset < bundle.length) {
    let start: number;
    let length: number;
    if (bundle[offset] === 0) {
      if (offset + 4 > bundle.length) break;
      length = bundle.readUInt32BE(offset);
      start = offset + 4;
    } else {
      length = readVarint(bundle, offset, bundle.length);
      if (length < 0) break;
      start = varintEnd;
    }
    if (start + length > bundle.length) break;
    let write = bundle.subarray(start, start + length);
    if (write[0] === FrameFormat.PACKED_WRITE && write.length > 1) {
      // Without a previous frame the flag stays, and decoding the write reports it.
      if ((write[1] as number) & PackedWriteFlag.SAME_TASK && previous) write = withTaskOf(write, previous);
      previous = (write[1] as number) & PackedWriteFlag.SAME_TASK ? undefined : write;
    } else {
      previous = undefined;
    }
    writes.push(write);
    offset = start + length;
  }
  if (offset < bundle.length || bundle.length === 0) writes.push(bundle.subarray(offset));
  return writes;
}

/** A pending write's parts, its text parts as strings. */
export interface WriteFrame {
  taskId: string;
  channel: string;
  type: Buffer;
  /** The value's bytes as stored (raw deflate when `deflated`). */
  stored: Buffer;
  deflated: boolean;
  taskPath: string;
  /** The idx part as a number (Number() of its text). */
  idx: number;
}

/** Where each of the six parts of a PLAIN write frame starts and ends (reused: unframeWrite reads it at once). */
const writeBounds = new Int32Array(12);

/**
 * The parts of a write frame that stands alone (PLAIN, DEFLATED or PACKED_WRITE), read straight from the frame;
 * anything irregular throws CorruptCheckpointError naming the source.
 */
export function unframeWrite(bytes: Buffer, source: FrameSource): WriteFrame {
  const format = bytes[0];
  if (format === FrameFormat.PACKED_WRITE) return unpackWrite(bytes, source);
  let offset = 1;
  let part = 0;
  if (format === FrameFormat.PLAIN || format === FrameFormat.DEFLATED) {
    while (part < 6 && offset + 4 <= bytes.length) {
      const end = offset + 4 + bytes.readUInt32BE(offset);
      if (end > bytes.length) break;
      writeBounds[2 * part] = offset + 4;
      writeBounds[2 * part + 1] = end;
      offset = end;
      part++;
    }
  }
  if (part !== 6 || offset !== bytes.length) {
    // unframeAs names what is wrong (it throws for anything but six parts of a known format).
    const [taskId, channel, type, stored, taskPath, idx] = unframeAs(
      bytes,
      source,
      [FrameFormat.PLAIN, FrameFormat.DEFLATED],
      [6],
    ).parts as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
    return {
      taskId: taskId.toString("utf8"),
      channel: channel.toString("utf8"),
      type,
      stored,
      deflated: format === FrameFormat.DEFLATED,
      taskPath: taskPath.toString("utf8"),
      idx: Number(idx.toString("utf8")),
    };
  }
  const b = writeBounds;
  return {
    taskId: bytes.toString("utf8", b[0], b[1]),
    channel: bytes.toString("utf8", b[2], b[3]),
    type: bytes.subarray(b[4], b[5]),
    stored: bytes.subarray(b[6], b[7]),
    deflated: format === FrameFormat.DEFLATED,
    taskPath: b[8] === b[9] ? "" : bytes.toString("utf8", b[8], b[9]),
    idx: frameInteger(bytes, b[10] as number, b[11] as number),
  };
}

/** Where each of the five length-prefixed parts of a PACKED_WRITE frame starts and ends (see writeBounds). */
const packedBounds = new Int32Array(10);

function unpackWrite(bytes: Buffer, source: FrameSource): WriteFrame {
  const flags = bytes[1];
  const end = bytes.length;
  // Task id, task path (its length times 4 plus its prefix), idx, channel, type: each after its varint length.
  let at = 2;
  let part = 0;
  let prefix = 0;
  if (flags === 0 || flags === PackedWriteFlag.DEFLATED) {
    for (; part < 5; part++) {
      const value = readVarint(bytes, at, end);
      if (value < 0) break;
      if (part === 1) prefix = value % 4;
      const to = varintEnd + (part === 1 ? (value - prefix) / 4 : value);
      if (to > end) break;
      packedBounds[2 * part] = varintEnd;
      packedBounds[2 * part + 1] = to;
      at = to;
    }
  }
  if (part !== 5 || prefix >= TASK_PATH_PREFIXES.length) return unpackFailure(bytes, source, part, prefix);
  const b = packedBounds;
  const path = b[2] === b[3] ? "" : bytes.toString("utf8", b[2], b[3]);
  return {
    taskId: bytes.toString("utf8", b[0], b[1]),
    channel: bytes.toString("utf8", b[6], b[7]),
    type: bytes.subarray(b[8], b[9]),
    stored: bytes.subarray(at),
    deflated: flags === PackedWriteFlag.DEFLATED,
    taskPath: prefix === 0 ? path : (TASK_PATH_PREFIXES[prefix] as string) + path,
    idx: frameInteger(bytes, b[4] as number, b[5] as number),
  };
}

/** The CorruptCheckpointError for a PACKED_WRITE frame unpackWrite could not read (`part`: the first one missing). */
function unpackFailure(bytes: Buffer, source: FrameSource, part: number, prefix: number): never {
  const flags = bytes[1];
  const detail =
    flags === undefined
      ? "truncated flags"
      : flags & PackedWriteFlag.SAME_TASK
        ? "it repeats the task of a write before it, and none is there"
        : flags & ~PackedWriteFlag.DEFLATED
          ? `unknown flags ${flags}`
          : part < 5
            ? `truncated ${["task id", "task path", "idx", "channel", "type"][part]}`
            : `unknown task path prefix ${prefix}`;
  throw new CorruptCheckpointError(source.key, `${describeSource(source)} cannot be decoded (${detail})`);
}

/**
 * The channel of a write frame that stands alone, or undefined when the bytes are no write frame (decoding the
 * write then names what is wrong).
 */
export function writeChannel(frame: Buffer): string | undefined {
  const format = frame[0];
  if (format === FrameFormat.PACKED_WRITE) {
    if (frame.length < 2 || (frame[1] as number) & PackedWriteFlag.SAME_TASK) return undefined;
    let at = taskPartEnd(frame);
    for (let part = 0; part < 2 && at >= 0; part++) {
      const length = readVarint(frame, at, frame.length);
      at = length < 0 || varintEnd + length > frame.length ? -1 : varintEnd + length;
      if (part === 1 && at >= 0) return frame.toString("utf8", at - length, at);
    }
    return undefined;
  }
  if ((format !== FrameFormat.PLAIN && format !== FrameFormat.DEFLATED) || frame.length < 9) return undefined;
  const at = 5 + frame.readUInt32BE(1);
  if (at + 4 > frame.length) return undefined;
  const end = at + 4 + frame.readUInt32BE(at);
  return end > frame.length ? undefined : frame.toString("utf8", at + 4, end);
}

/** Number() of the text bytes[from, to), read without a string when it is a plain integer (digits, maybe a "-"). */
function frameInteger(bytes: Buffer, from: number, to: number): number {
  const negative = bytes[from] === 0x2d;
  let value = 0;
  for (let i = negative ? from + 1 : from; i < to; i++) {
    const digit = (bytes[i] as number) - 0x30;
    if (digit < 0 || digit > 9 || i - from > 15) return Number(bytes.toString("utf8", from, to));
    value = value * 10 + digit;
  }
  return negative ? (to - from === 1 ? Number.NaN : -value) : to === from ? 0 : value;
}

/**
 * Compression of stored values with Node's built-in zlib (raw deflate; no native dependency), shared by the
 * checkpointer and the store. Values at or above a threshold are compressed when that makes them smaller; reads
 * inflate with a hard output limit, so a value that would inflate beyond `maxValueBytes` (a decompression bomb,
 * or bytes that were never ours) is refused with DecompressionLimitError instead of filling the process's memory.
 */
import { promisify } from "node:util";
import { constants, deflateRaw, deflateRawSync, inflateRaw, inflateRawSync, type ZlibOptions } from "node:zlib";
import { z } from "zod";
import { CorruptDataError, DecompressionLimitError } from "./errors.js";

const deflateRawAsync = promisify(deflateRaw);
const inflateRawAsync = promisify(inflateRaw);

/** The `compression` option: compress values of at least `minBytes` (serialised) at zlib `level`. */
export const compressionOptionsSchema = z.union(
  [
    z.literal(false),
    z.strictObject({
      /** Serialised values smaller than this (bytes) are stored as they are. */
      minBytes: z
        .number()
        .int()
        .min(64)
        .default(4 * 1024),
      /** zlib level: 1 is fastest, 9 smallest. */
      level: z.number().int().min(1).max(9).default(6),
    }),
  ],
  { message: "false, or an object { minBytes?, level? }" },
);

export type CompressionOptions = z.input<typeof compressionOptionsSchema>;
export type ParsedCompressionOptions = z.output<typeof compressionOptionsSchema>;

export interface Compression {
  readonly minBytes: number;
  readonly level: number;
}

/** The parsed option as the write path uses it: undefined when compression is off. */
export function compressionFrom(option: ParsedCompressionOptions | undefined): Compression | undefined {
  return option === undefined || option === false ? undefined : option;
}

/**
 * The deflated bytes of `bytes` when compression is on, the value is at least `minBytes` and deflating saves at
 * least an eighth; otherwise undefined (store the bytes as they are).
 */
export async function maybeCompress(
  compression: Compression | undefined,
  bytes: Uint8Array,
): Promise<Buffer | undefined> {
  if (compression === undefined || bytes.byteLength < compression.minBytes) return undefined;
  const deflated = await deflateRawAsync(bytes, { level: compression.level, strategy: constants.Z_DEFAULT_STRATEGY });
  return worthKeeping(bytes, deflated);
}

/**
 * maybeCompress in the calling thread, for callers that decode synchronously (the store: its values are at most
 * its own `maxValueBytes`, 1 MiB by default, where zlib's thread pool hand-off costs more than it saves).
 */
export function maybeCompressSync(compression: Compression | undefined, bytes: Uint8Array): Buffer | undefined {
  if (compression === undefined || bytes.byteLength < compression.minBytes) return undefined;
  return worthKeeping(
    bytes,
    deflateRawSync(bytes, { level: compression.level, strategy: constants.Z_DEFAULT_STRATEGY }),
  );
}

function worthKeeping(bytes: Uint8Array, deflated: Buffer): Buffer | undefined {
  return deflated.byteLength <= bytes.byteLength - (bytes.byteLength >> 3) ? deflated : undefined;
}

/**
 * Inflates a value stored compressed. More than `maxBytes` of output throws DecompressionLimitError; bytes that
 * are not raw deflate throw CorruptDataError. `key` and `what` name the value in both. `dictionary`: the preset
 * dictionary the value was deflated with, if any.
 */
export async function decompress(
  deflated: Uint8Array,
  maxBytes: number,
  key: string,
  what: () => string,
  Corrupt: new (key: string, detail: string, options?: { cause?: unknown }) => CorruptDataError = CorruptDataError,
  dictionary?: Buffer,
): Promise<Buffer> {
  try {
    return await inflateRawAsync(deflated, inflateOptions(maxBytes, dictionary));
  } catch (error) {
    throw inflateError(error, maxBytes, key, what, Corrupt);
  }
}

/** decompress in the calling thread (see maybeCompressSync), with the same limit and errors. */
export function decompressSync(
  deflated: Uint8Array,
  maxBytes: number,
  key: string,
  what: () => string,
  Corrupt: new (key: string, detail: string, options?: { cause?: unknown }) => CorruptDataError = CorruptDataError,
  dictionary?: Buffer,
): Buffer {
  try {
    return inflateRawSync(deflated, inflateOptions(maxBytes, dictionary));
  } catch (error) {
    throw inflateError(error, maxBytes, key, what, Corrupt);
  }
}

/** What a failed inflate throws: DecompressionLimitError past the limit, else `Corrupt` naming the value. */
function inflateError(
  error: unknown,
  maxBytes: number,
  key: string,
  what: () => string,
  Corrupt: new (key: string, detail: string, options?: { cause?: unknown }) => CorruptDataError,
): Error {
  if (isOutputLimit(error)) return new DecompressionLimitError(key, what(), maxBytes, { cause: error });
  const reason = error instanceof Error ? error.message : String(error);
  return new Corrupt(key, `${what()} cannot be decompressed (${reason})`, { cause: error });
}

function inflateOptions(maxBytes: number, dictionary: Buffer | undefined): ZlibOptions {
  const options: ZlibOptions = Number.isFinite(maxBytes) ? { maxOutputLength: maxBytes } : {};
  if (dictionary !== undefined) options.dictionary = dictionary;
  return options;
}

function isOutputLimit(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ERR_BUFFER_TOO_LARGE" || (error instanceof RangeError && /larger than/i.test(error.message));
}

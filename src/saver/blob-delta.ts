/**
 * Delta-encoded channel blobs: how a channel version is stored as an earlier version of the same channel (same
 * thread, same namespace) plus the bytes that differ, and how it is read back.
 *
 * LangGraph stores a channel's whole value again at every version. Values that grow by appending (a message list)
 * serialise to the previous bytes minus their closing bracket plus the new items, so a version is stored as
 * (base version, shared prefix length, suffix). Bases come in two levels (see LastValue) so that full copies are
 * rare and a read still resolves at most `maxChain` blobs, all fetched by the read script in its one round trip.
 *
 * The writer learns the previous bytes from a small per-saver cache of the last value it serialised per (thread,
 * namespace, channel); a miss (another process wrote the thread, the cache evicted it, a restart) stores a full
 * copy. The write script checks that the base is still stored with the length the writer knew; otherwise nothing
 * is written and the writer stores full copies instead.
 */
import { z } from "zod";
import { type Compression, decompress, maybeCompress } from "../compression.js";
import { CorruptCheckpointError } from "../errors.js";
import type { HeldBlob } from "../lua/catalogue.js";
import { asBuffer, escapePart, FrameFormat, type FrameSource, frame, unescapePart, unframeAs } from "./codec.js";

/** The `blobDeltas` option of RedisSaver. */
export const blobDeltasOptionsSchema = z.union(
  [
    z.literal(false),
    z.strictObject({
      /** Serialised channel values smaller than this (bytes) are always stored whole and never cached. */
      minBytes: z
        .number()
        .int()
        .min(64)
        .default(2 * 1024),
      /** Most blobs one channel value is rebuilt from (one full copy and up to maxChain - 1 deltas); a full copy is
       * stored about every (maxChain / 2)^2 versions of a channel. */
      maxChain: z.number().int().min(2).max(256).default(32),
      /** Memory (bytes) the per-saver cache of last serialised values may hold; least recently used go first. */
      cacheBytes: z
        .number()
        .int()
        .min(0)
        .default(32 * 1024 * 1024),
    }),
  ],
  { message: "false, or an object { minBytes?, maxChain?, cacheBytes? }" },
);

export type BlobDeltasOptions = z.input<typeof blobDeltasOptionsSchema>;
export type ParsedBlobDeltasOptions = z.output<typeof blobDeltasOptionsSchema>;

/** Below this many shared bytes a delta is not worth its bookkeeping. */
const MIN_SHARED_BYTES = 128;

/** A value as stored: enough to use it as a delta base. */
interface StoredValue {
  /** The version's text as it appears in the blob field (escaped). */
  readonly version: string;
  readonly bytes: Uint8Array;
  /** Length of the blob as stored (what the write script checks). */
  readonly storedLength: number;
}

/**
 * What the cache knows of one channel. Deltas come in two levels so that full copies stay rare without long
 * chains: a version is a delta against the previous version (level 0) until `level0` of them follow one anchor; the
 * next version is an anchor, a delta against the previous anchor (level 1), until `level1` anchors follow one full
 * copy; then a full copy. A read walks at most level0 - 1 level-0 deltas, level1 - 1 anchors and one full copy.
 */
interface LastValue {
  readonly type: string;
  readonly last: StoredValue;
  /** Level-0 deltas between `last` and `anchor` (0: last is the anchor). */
  readonly sinceAnchor: number;
  readonly anchor: StoredValue;
  /** Anchors between `anchor` and its full copy (0: the anchor is the full copy). */
  readonly sinceFull: number;
}

/**
 * The last value serialised per (thread, namespace, channel), least recently used evicted beyond `maxBytes`. Keys
 * are `scope\0channel` (scope: escaped thread and namespace, see lastValueKey); `#channels` lists each scope's
 * channels, so a read can find what it holds for one thread and namespace without walking the cache.
 */
class LastValueCache {
  readonly #entries = new Map<string, LastValue & { readonly channel: string }>();
  readonly #channels = new Map<string, Set<string>>();
  #bytes = 0;

  constructor(readonly maxBytes: number) {}

  get(key: string): LastValue | undefined {
    return this.#entries.get(key);
  }

  set(key: string, value: LastValue & { readonly channel: string }): void {
    this.delete(key);
    if (weight(value) > this.maxBytes) return;
    this.#entries.set(key, value);
    const scope = scopeOf(key);
    let channels = this.#channels.get(scope);
    if (channels === undefined) {
      channels = new Set();
      this.#channels.set(scope, channels);
    }
    channels.add(value.channel);
    this.#bytes += weight(value);
    for (const oldest of this.#entries.keys()) {
      if (this.#bytes <= this.maxBytes) break;
      this.delete(oldest);
    }
  }

  delete(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    const scope = scopeOf(key);
    const channels = this.#channels.get(scope);
    channels?.delete(entry.channel);
    if (channels?.size === 0) this.#channels.delete(scope);
    this.#bytes -= weight(entry);
  }

  /** The channels held for one scope (escaped thread and namespace). */
  channels(scope: string): ReadonlySet<string> | undefined {
    return this.#channels.get(scope);
  }

  deleteWithPrefix(prefix: string): void {
    for (const key of [...this.#entries.keys()]) if (key.startsWith(prefix)) this.delete(key);
  }
}

/** Bytes an entry holds (the anchor often is the last value itself). */
function weight(value: LastValue): number {
  return value.last.bytes.byteLength + (value.anchor === value.last ? 0 : value.anchor.bytes.byteLength);
}

/** A blob ready for the write script, and what the cache learns once the write has committed. */
export interface EncodedBlob {
  readonly blob: Buffer;
  readonly commit?: () => void;
}

/** One saver's delta encoder: its settings and its cache. */
export class BlobDeltas {
  readonly #cache: LastValueCache;

  constructor(
    readonly minBytes: number,
    readonly maxChain: number,
    cacheBytes: number,
  ) {
    this.#cache = new LastValueCache(cacheBytes);
  }

  static from(option: ParsedBlobDeltasOptions | undefined): BlobDeltas | undefined {
    if (option === false) return undefined;
    const { minBytes, maxChain, cacheBytes } = option ?? blobDeltasOptionsSchema.options[1].parse({});
    return new BlobDeltas(minBytes, maxChain, cacheBytes);
  }

  /** Level-0 deltas per anchor and anchors per full copy (see LastValue); together at most maxChain blobs. */
  get levels(): { level0: number; level1: number } {
    const level0 = Math.ceil(this.maxChain / 2);
    return { level0, level1: this.maxChain - level0 + 1 };
  }

  /**
   * The blob for `bytes` as version `version` of the channel: a delta against the cached previous value or anchor
   * when one is known and shares enough of its bytes, else a full copy. `full` forces a full copy (the retry after a
   * base was gone). Values below minBytes are full copies and leave the cache alone. A Promise only when compression
   * is on (zlib's thread pool); without it the blob comes back at once.
   */
  encode(
    compression: Compression | undefined,
    key: { threadId: string; ns: string; channel: string },
    version: string | number,
    type: string,
    bytes: Uint8Array,
    full = false,
  ): EncodedBlob | Promise<EncodedBlob> {
    if (bytes.byteLength < this.minBytes) return after(fullBlob(compression, type, bytes), (blob) => ({ blob }));
    const cacheKey = lastValueKey(key.threadId, key.ns, key.channel);
    const known = full ? undefined : this.#cache.get(cacheKey);
    const versionText = escapePart(String(version));
    const { level0, level1 } = this.levels;
    const remember = (blob: Buffer, next: (stored: StoredValue) => LastValue): EncodedBlob => {
      const stored = { version: versionText, bytes, storedLength: blob.length };
      return { blob, commit: () => this.#cache.set(cacheKey, { ...next(stored), channel: key.channel }) };
    };
    const asFullCopy = () =>
      after(fullBlob(compression, type, bytes), (blob) =>
        remember(blob, (last) => ({ type, last, sinceAnchor: 0, anchor: last, sinceFull: 0 })),
      );
    if (known !== undefined && known.type === type) {
      if (known.sinceAnchor + 1 < level0) {
        return after(deltaBlob(compression, known.last, type, bytes), (blob) =>
          blob === undefined
            ? asFullCopy()
            : remember(blob, (last) => ({ ...known, last, sinceAnchor: known.sinceAnchor + 1 })),
        );
      }
      if (known.sinceFull + 1 < level1) {
        return after(deltaBlob(compression, known.anchor, type, bytes), (blob) =>
          blob === undefined
            ? asFullCopy()
            : remember(blob, (last) => ({
                type,
                last,
                sinceAnchor: 0,
                anchor: last,
                sinceFull: known.sinceFull + 1,
              })),
        );
      }
    }
    return asFullCopy();
  }

  /**
   * The channel values of one thread and namespace this saver wrote last and still holds, by blob field
   * (`ns\0channel\0version`): a read passes them to the read script, which then sends none of their bytes.
   */
  held(threadId: string, ns: string): Map<string, HeldBlob> | undefined {
    const scope = `${escapePart(threadId)}\0${escapePart(ns)}`;
    const channels = this.#cache.channels(scope);
    if (channels === undefined) return undefined;
    const held = new Map<string, HeldBlob>();
    for (const channel of channels) {
      const entry = this.#cache.get(`${scope}\0${escapePart(channel)}`);
      if (entry === undefined) continue;
      const { version, bytes, storedLength } = entry.last;
      held.set(`${escapePart(ns)}\0${escapePart(channel)}\0${version}`, { type: entry.type, bytes, storedLength });
    }
    return held;
  }

  /** Drops what the cache knows of one channel (a write whose outcome is unknown) or of a whole thread. */
  forget(threadId: string, ns?: string, channel?: string): void {
    if (ns !== undefined && channel !== undefined) this.#cache.delete(lastValueKey(threadId, ns, channel));
    else this.#cache.deleteWithPrefix(`${escapePart(threadId)}\0`);
  }
}

function lastValueKey(threadId: string, ns: string, channel: string): string {
  return `${escapePart(threadId)}\0${escapePart(ns)}\0${escapePart(channel)}`;
}

/** The scope (escaped thread and namespace) of a cache key: everything before its last separator. */
function scopeOf(key: string): string {
  return key.slice(0, key.lastIndexOf("\0"));
}

/** `fn` of a value that may still be coming: at once when it is there, else once it arrives. */
function after<T, R>(value: T | Promise<T>, fn: (value: T) => R | Promise<R>): R | Promise<R> {
  return value instanceof Promise ? value.then(fn) : fn(value);
}

/**
 * A delta blob of `bytes` against `base`, or undefined when they share too little for a delta to pay. A Promise
 * only when compression is on.
 */
function deltaBlob(
  compression: Compression | undefined,
  base: StoredValue,
  type: string,
  bytes: Uint8Array,
): Buffer | undefined | Promise<Buffer | undefined> {
  const shared = sharedPrefixLength(base.bytes, bytes);
  if (shared < MIN_SHARED_BYTES || shared * 2 < bytes.byteLength) return undefined;
  const suffix = asBuffer(bytes).subarray(shared);
  const framed = (deflated: Buffer | undefined) =>
    frame(
      [base.version, String(base.storedLength), String(shared), type, deflated ?? suffix],
      deflated === undefined ? FrameFormat.DELTA : FrameFormat.DELTA_DEFLATED,
    );
  return compression === undefined ? framed(undefined) : maybeCompress(compression, suffix).then(framed);
}

/** A full-copy blob: PLAIN [type, bytes], or DEFLATED when compression is on and pays (then a Promise). */
export function fullBlob(
  compression: Compression | undefined,
  type: string,
  bytes: Uint8Array,
): Buffer | Promise<Buffer> {
  const framed = (deflated: Buffer | undefined) =>
    deflated === undefined ? frame([type, bytes]) : frame([type, deflated], FrameFormat.DEFLATED);
  return compression === undefined ? framed(undefined) : maybeCompress(compression, bytes).then(framed);
}

/** Length of the longest common prefix of `a` and `b`; compares natively in blocks, bytes only in the last one. */
export function sharedPrefixLength(a: Uint8Array, b: Uint8Array): number {
  const x = asBuffer(a);
  const y = asBuffer(b);
  const limit = Math.min(x.length, y.length);
  // The usual case (an appended list): everything but the previous value's last byte is shared.
  if (limit > 1 && x.compare(y, 0, limit - 1, 0, limit - 1) === 0) {
    return x[limit - 1] === y[limit - 1] ? limit : limit - 1;
  }
  const BLOCK = 4096;
  let start = 0;
  while (start + BLOCK <= limit && x.compare(y, start, start + BLOCK, start, start + BLOCK) === 0) start += BLOCK;
  // The first difference is in [start, end): halve that range natively down to a few bytes, then compare those.
  let end = Math.min(start + BLOCK, limit);
  while (end - start > 32) {
    const middle = (start + end) >>> 1;
    if (x.compare(y, start, middle, start, middle) === 0) start = middle;
    else end = middle;
  }
  while (start < limit && x[start] === y[start]) start++;
  return start;
}

const BLOB_FORMATS = [FrameFormat.PLAIN, FrameFormat.DEFLATED, FrameFormat.DELTA, FrameFormat.DELTA_DEFLATED];

/** A decoded channel value's bytes, or `cleared` for a channel written without a value. */
export type BlobBytes = { type: string; bytes: Buffer } | "cleared";

/**
 * The field of the blob `blob` (stored at `field`) is a delta against, or undefined for a full value. The read
 * script computes the same (include/checkpointRefs.lua); this is its TypeScript twin for code that resolves chains.
 */
export function blobBaseField(field: string, blob: Buffer, source: FrameSource): string | undefined {
  if (blob[0] !== FrameFormat.DELTA && blob[0] !== FrameFormat.DELTA_DEFLATED) return undefined;
  const { parts } = unframeAs(blob, source, [FrameFormat.DELTA, FrameFormat.DELTA_DEFLATED], [5]);
  return withVersion(field, (parts[0] as Buffer).toString("utf8"));
}

/** `ns\0channel\0version` with another (escaped) version. */
function withVersion(field: string, version: string): string {
  return `${field.slice(0, field.lastIndexOf("\0") + 1)}${version}`;
}

/**
 * Rebuilds the bytes of the blob stored at `field`: follows delta bases through `bases` (field -> stored blob, as
 * the read script returned them) to a full copy, inflates what is compressed and applies the suffixes. A missing or
 * changed base, a chain longer than the read script follows, or a total over `maxBytes` throws
 * CorruptCheckpointError (or DecompressionLimitError) naming `source`.
 */
export async function resolveBlob(
  field: string,
  blob: Buffer,
  bases: ReadonlyMap<string, Buffer>,
  maxBytes: number,
  source: FrameSource,
): Promise<BlobBytes> {
  const what = () => (typeof source.what === "function" ? source.what() : source.what);
  const corrupt = (detail: string) => new CorruptCheckpointError(source.key, `${what()} ${detail}`);
  // Head first, full copy last.
  const chain: { field: string; format: FrameFormat; parts: Buffer[] }[] = [];
  let currentField = field;
  let current: Buffer | undefined = blob;
  for (;;) {
    if (current === undefined)
      throw corrupt(`needs the blob ${JSON.stringify(printable(currentField))}, which is missing`);
    const { format, parts } = unframeAs(current, source, BLOB_FORMATS, [0, 2, 5]);
    const isDelta = format === FrameFormat.DELTA || format === FrameFormat.DELTA_DEFLATED;
    const expected = isDelta ? [5] : format === FrameFormat.PLAIN ? [0, 2] : [2];
    if (!expected.includes(parts.length)) {
      throw corrupt(`cannot be decoded (format ${format} with ${parts.length} parts)`);
    }
    chain.push({ field: currentField, format, parts });
    if (!isDelta) break;
    if (chain.length > MAX_CHAIN_READ) throw corrupt(`has a delta chain longer than ${MAX_CHAIN_READ} blobs`);
    const baseField = withVersion(currentField, (parts[0] as Buffer).toString("utf8"));
    const base = bases.get(baseField);
    if (base !== undefined && String(base.length) !== (parts[1] as Buffer).toString("utf8")) {
      throw corrupt(`needs the blob ${JSON.stringify(printable(baseField))}, which has changed since`);
    }
    currentField = baseField;
    current = base;
  }
  const last = chain[chain.length - 1] as (typeof chain)[number];
  if (last.parts.length === 0) {
    if (chain.length === 1) return "cleared";
    throw corrupt("is a delta against a cleared value");
  }
  let value =
    last.format === FrameFormat.DEFLATED
      ? await decompress(last.parts[1] as Buffer, maxBytes, source.key, what, CorruptCheckpointError)
      : (last.parts[1] as Buffer);
  if (chain.length === 1) return { type: (last.parts[0] as Buffer).toString("utf8"), bytes: value };
  // Apply the deltas from the oldest to the head: keep the shared prefix, append the suffix.
  const segments: Buffer[] = [value];
  let length = value.length;
  for (let i = chain.length - 2; i >= 0; i--) {
    const { format, parts } = chain[i] as (typeof chain)[number];
    const shared = Number((parts[2] as Buffer).toString("utf8"));
    if (!Number.isInteger(shared) || shared < 0 || shared > length) {
      throw corrupt(`shares ${shared} bytes with a base of ${length} bytes`);
    }
    truncate(segments, shared);
    length = shared;
    const suffix =
      format === FrameFormat.DELTA_DEFLATED
        ? await decompress(parts[4] as Buffer, maxBytes, source.key, what, CorruptCheckpointError)
        : (parts[4] as Buffer);
    segments.push(suffix);
    length += suffix.length;
    if (length > maxBytes) throw corrupt(`would be ${length} bytes, more than maxValueBytes (${maxBytes})`);
  }
  value = Buffer.concat(segments, length);
  return { type: ((chain[0] as (typeof chain)[number]).parts[3] as Buffer).toString("utf8"), bytes: value };
}

/** The read script follows at most this many bases per blob (a guard against a cycle in corrupt data). */
export const MAX_CHAIN_READ = 1024;

/** Cuts `segments` (in place) to their first `length` bytes. */
function truncate(segments: Buffer[], length: number): void {
  let kept = 0;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as Buffer;
    if (kept + segment.length >= length) {
      segments[i] = segment.subarray(0, length - kept);
      segments.length = i + 1;
      return;
    }
    kept += segment.length;
  }
}

function printable(field: string): string {
  return field.split("\0").map(unescapePart).join(" / ");
}

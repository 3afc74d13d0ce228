/**
 * Redis Cluster hash slots, computed locally: which slot a key lands in, and the fixed buckets that spread the
 * cross-thread indexes (thread registry, run lease index) over the slot space. A leaf module (imports nothing), so
 * the keys module can use it.
 */

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ (CRC16_TABLE[((crc >> 8) ^ byte) & 0xff] ?? 0);
  return crc;
}

/** Redis Cluster hash slot of a key (CRC16/XMODEM of the hash tag if there is one, of the whole key otherwise). */
export function keySlot(key: string): number {
  let bytes = Buffer.from(key, "utf8");
  const open = bytes.indexOf(0x7b);
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) bytes = bytes.subarray(open + 1, close);
  }
  return crc16(bytes) % 16384;
}

/**
 * How many buckets a cross-thread index is spread over. Fixed: a thread's bucket must be the same in every process
 * and every version, since readers merge what writers put. 16 buckets whose tags sit in evenly spaced slot ranges
 * put 5 or 6 buckets on each master of a 3-master cluster (busiest/least busy at most 1.2x) while a reader that
 * spans them sends 16 small commands, pipelined.
 */
export const THREAD_BUCKETS = 16;

/** The bucket of a thread (CRC16 of its id, UTF-8): stable across processes. */
export function threadBucket(threadId: string): number {
  return crc16(Buffer.from(threadId, "utf8")) % THREAD_BUCKETS;
}

const bucketTags: string[] = [];

/**
 * The hash tag of bucket `bucket`: the first base-36 string ("0", "1", ..., "z", "10", ...) whose slot lies in the
 * bucket's sixteenth of the slot space. Deterministic, so every process picks the same tag; slot ranges assigned to
 * masters in contiguous blocks (as redis-cli does) then receive buckets in proportion to their share of slots.
 */
export function bucketTag(bucket: number): string {
  const known = bucketTags[bucket];
  if (known !== undefined) return known;
  if (!Number.isInteger(bucket) || bucket < 0 || bucket >= THREAD_BUCKETS) throw new RangeError(`no bucket ${bucket}`);
  const width = 16384 / THREAD_BUCKETS;
  for (let n = 0; ; n++) {
    const candidate = n.toString(36);
    if (Math.floor(keySlot(candidate) / width) === bucket) {
      bucketTags[bucket] = candidate;
      return candidate;
    }
  }
}

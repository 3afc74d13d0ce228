/**
 * Unsigned LEB128 varints (7 bits a byte, lowest first, the high bit set on every byte but the last), as packed
 * records (record.ts) and packed pending writes (write-frame.ts) store their lengths. At most 7 bytes: 49 bits, past
 * any length a Buffer can hold.
 */

/** How many bytes `value` takes as a varint. */
export function varintLength(value: number): number {
  let length = 1;
  for (let rest = value; rest >= 128; rest = Math.floor(rest / 128)) length++;
  return length;
}

/** Writes `value` at out[offset]; returns the offset after it. */
export function writeVarint(out: Buffer, offset: number, value: number): number {
  let at = offset;
  let rest = value;
  while (rest >= 128) {
    out[at++] = (rest % 128) + 128;
    rest = Math.floor(rest / 128);
  }
  out[at++] = rest;
  return at;
}

/** Where the varint readVarint read last ends (a module variable, so that reading one allocates nothing). */
export let varintEnd = 0;

/** The varint at bytes[at] (up to 7 bytes), or -1 when it does not end before `end`; its end goes to varintEnd. */
export function readVarint(bytes: Uint8Array, at: number, end: number): number {
  // Most lengths are below 128: one byte.
  const first = bytes[at] as number;
  if (first < 128 && at < end) {
    varintEnd = at + 1;
    return first;
  }
  let value = 0;
  let scale = 1;
  for (let i = at; i < end && i < at + 7; i++) {
    const byte = bytes[i] as number;
    if (byte < 128) {
      varintEnd = i + 1;
      return value + byte * scale;
    }
    value += (byte - 128) * scale;
    scale *= 128;
  }
  return -1;
}

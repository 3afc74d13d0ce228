/**
 * What a packed record (packing ids 3 and 4, see record.ts) leaves out of the checkpoint's JSON because the record
 * holds it already: the checkpoint id, which is its hash field, and `channel_versions`, whose every entry is a line of
 * its refs text (`channel\0version`, in the same order). Together about 80 bytes of a 320-byte record. Packing id 4
 * also leaves out most of the timestamp: LangGraph takes a checkpoint's id (a version 6 UUID, which holds the time in
 * 100-nanosecond steps) and its `ts` from the clock a moment apart, so `ts` is stored as the milliseconds between the
 * two (`"ts":"+0"`, 24 bytes less).
 *
 * The stored JSON keeps the keys with empty values (`"id":""`, `"channel_versions":{}`, `"ts":"+<ms>"`); reading puts
 * the values back into the first occurrence of each. Raw JSON text can hold those sequences only as keys (a quote
 * inside a string is escaped), and the writer restores what it is about to store and compares bytes before it leaves
 * anything out: a record is written this way only when reading gives back exactly the serializer's bytes (versions
 * that are numbers, as LangGraph's are; checkpoint keys in the usual order), and with packing id 2 otherwise. The
 * JSON of LangGraph's own checkpoints takes a shorter way to the same bytes (leaveOutOfLangGraphPrefix), which
 * test/saver/record-derived.test.ts holds to the general one (leaveOutByText) byte for byte.
 */
import { isUtf8 } from "node:buffer";
import { decodeRefs } from "./codec.js";

const EMPTY_ID = '"id":""';
const EMPTY_VERSIONS = '"channel_versions":{}';
const TS_KEY = '"ts":"';
/** An ISO timestamp as Date.prototype.toISOString writes it for years 0 to 9999. */
const ISO_TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
/** Offsets between a checkpoint's ts and its id's time beyond this many ms keep the timestamp whole. */
const MAX_TS_OFFSET_MS = 1e9;
/** Milliseconds between the UUID epoch (1582-10-15) and the Unix epoch. */
const UUID_EPOCH_OFFSET_MS = 12_219_292_800_000;

/** What leaveOutDerived kept: the reduced JSON, and whether its timestamp was left out too (packing id 4). */
export interface DerivedJson {
  bytes: Buffer;
  timestamp: boolean;
}

/**
 * The checkpoint JSON with its id and channel versions emptied (and its timestamp, when the id tells it), or
 * undefined when reading could not restore it. `versions`: the refs' [channel, version text] lines when the caller
 * has them (the writer built the refs from them), saving a parse of the refs.
 */
export function leaveOutDerived(
  json: Uint8Array,
  checkpointId: string,
  refs: string,
  versions?: readonly (readonly [string, string])[],
): DerivedJson | undefined {
  const bytes = Buffer.from(json.buffer, json.byteOffset, json.byteLength);
  const lines = versions ?? decodeRefs(refs).channels;
  return leaveOutOfLangGraphPrefix(bytes, checkpointId, lines) ?? leaveOutByText(bytes, checkpointId, lines);
}

/**
 * leaveOutDerived for the JSON LangGraph's checkpoints serialise to, which starts `{"v":<digits>,"id":<version 6
 * UUID>,"ts":<ISO time>,"channel_versions":{<the refs' lines, in order>}`: nothing before those keys can hold what
 * the replacements of leaveOutByText look for, so their first occurrences are these keys, and the reduced JSON is
 * this prefix rewritten and the rest as it is, byte for byte what leaveOutByText returns. Reading restores it
 * exactly when the timestamp is one toISOString writes, which is checked field by field instead of restoring the
 * whole text. Undefined for any other JSON (and where the timestamp cannot be left out): the general path then
 * decides. Measured in sequential puts, 5 to 14 us of Node CPU less per put than leaveOutByText (about 120 and 180
 * us per put of a typical step and of a 21-message chat).
 */
export function leaveOutOfLangGraphPrefix(
  bytes: Buffer,
  checkpointId: string,
  versions: readonly (readonly [string, string])[],
): DerivedJson | undefined {
  const idMs = uuid6Ms(checkpointId);
  // Bytes that are not UTF-8 would not come back from leaveOutByText's decoding: it keeps such JSON whole.
  if (idMs === undefined || !isUtf8(bytes)) return undefined;
  let at = skipAscii(bytes, 0, '{"v":');
  const digits = at;
  while (at > 0 && at < bytes.length && (bytes[at] as number) >= 0x30 && (bytes[at] as number) <= 0x39) at++;
  if (at <= digits) return undefined;
  const head = bytes.toString("latin1", 0, at);
  // The UUID's characters are JSON as they are.
  at = skipAscii(bytes, skipAscii(bytes, skipAscii(bytes, at, ',"id":"'), checkpointId), '","ts":"');
  const tsMs = at < 0 ? undefined : canonicalIsoMs(bytes, at);
  if (tsMs === undefined) return undefined;
  const offset = tsMs - idMs;
  if (Math.abs(offset) > MAX_TS_OFFSET_MS) return undefined;
  at = skipAscii(bytes, at + ISO_TS_LENGTH, '","channel_versions":{');
  for (let i = 0; i < versions.length && at > 0; i++) {
    const [channel, version] = versions[i] as readonly [string, string];
    if (!isPlainJsonText(channel) || !isPlainJsonText(version)) return undefined;
    at = skipAscii(bytes, i === 0 ? at : skipAscii(bytes, at, ","), '"');
    at = skipAscii(bytes, skipAscii(bytes, skipAscii(bytes, at, channel), '":'), version);
  }
  at = skipAscii(bytes, at, "}");
  if (at < 0) return undefined;
  const prefix = `${head},${EMPTY_ID},${TS_KEY}${offset < 0 ? "-" : "+"}${Math.abs(offset)}",${EMPTY_VERSIONS}`;
  const reduced = Buffer.allocUnsafe(prefix.length + bytes.length - at);
  reduced.write(prefix, 0, "latin1");
  bytes.copy(reduced, prefix.length, at);
  return { bytes: reduced, timestamp: true };
}

/** Length of an ISO timestamp as Date.prototype.toISOString writes it for years 0 to 9999. */
const ISO_TS_LENGTH = 24;
const QUOTE = 0x22;
const MS_PER_DAY = 86_400_000;

/**
 * The time (Unix ms) of the ISO timestamp at `at` when it is one toISOString writes (years 0 to 9999, every field in
 * its range, the day within its month), so that toISOString gives back these very bytes; else undefined. Computed
 * with integers (days from the civil date), not Date.parse: a put does this for every checkpoint.
 */
function canonicalIsoMs(bytes: Buffer, at: number): number | undefined {
  if (at + ISO_TS_LENGTH >= bytes.length) return undefined;
  for (let i = 0; i < ISO_MARKS.length; i += 2) {
    if (bytes[at + (ISO_MARKS[i] as number)] !== ISO_MARKS[i + 1]) return undefined;
  }
  const year = decimal(bytes, at, 4);
  const month = decimal(bytes, at + 5, 2);
  const day = decimal(bytes, at + 8, 2);
  const hour = decimal(bytes, at + 11, 2);
  const minute = decimal(bytes, at + 14, 2);
  const second = decimal(bytes, at + 17, 2);
  const ms = decimal(bytes, at + 20, 3);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59) {
    return undefined;
  }
  if (second < 0 || second > 59 || ms < 0 || day > daysInMonth(year, month)) return undefined;
  return daysFromCivil(year, month, day) * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1000 + ms;
}

/** The decimal number of `count` ASCII digits at `at`, or -1 when one is not a digit. */
function decimal(bytes: Buffer, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const digit = (bytes[i] as number) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** The separators of `YYYY-MM-DDTHH:MM:SS.mmmZ"` as (offset, byte) pairs, the JSON string's closing quote included. */
const ISO_MARKS: readonly number[] = [4, 0x2d, 7, 0x2d, 10, 0x54, 13, 0x3a, 16, 0x3a, 19, 0x2e, 23, 0x5a, 24, QUOTE];

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (the algorithm of H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** The offset just past `ascii` when `bytes` holds it at `at`, else -1 (also for `at` -1). */
function skipAscii(bytes: Buffer, at: number, ascii: string): number {
  if (at < 0 || at + ascii.length > bytes.length) return -1;
  for (let i = 0; i < ascii.length; i++) if (bytes[at + i] !== ascii.charCodeAt(i)) return -1;
  return at + ascii.length;
}

/** Whether JSON.stringify writes `text` as itself between quotes, one byte per character: printable ASCII, no `"` or `\`. */
function isPlainJsonText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code > 0x7e || code === QUOTE || code === 0x5c) return false;
  }
  return true;
}

/** leaveOutDerived for any JSON: the replacements made on the text, then checked by restoring the whole text. */
export function leaveOutByText(
  bytes: Buffer,
  checkpointId: string,
  versions: readonly (readonly [string, string])[],
): DerivedJson | undefined {
  const text = bytes.toString("utf8");
  const [idPart, versionsPart] = derivedParts(checkpointId, versions);
  let reduced = text.replace(idPart, () => EMPTY_ID).replace(versionsPart, () => EMPTY_VERSIONS);
  if (reduced.length === text.length) return undefined;
  const idMs = uuid6Ms(checkpointId);
  const withoutTs = idMs === undefined ? undefined : leaveOutTimestamp(reduced, idMs);
  if (withoutTs !== undefined) reduced = withoutTs;
  const restored = restoreText(reduced, idPart, versionsPart, withoutTs === undefined ? undefined : idMs);
  // Text decoded without a replacement character was valid UTF-8, so equal text means equal bytes; otherwise the
  // bytes themselves are compared.
  if (restored !== text || (text.includes("\uFFFD") && !Buffer.from(restored, "utf8").equals(bytes))) return undefined;
  return { bytes: Buffer.from(reduced, "utf8"), timestamp: withoutTs !== undefined };
}

/**
 * The checkpoint JSON as the serializer wrote it, from the stored one (leaveOutDerived's inverse); `timestamp`: the
 * record left the timestamp out (packing id 4). Undefined when the stored JSON lacks the timestamp's offset.
 */
export function restoreDerived(
  stored: Buffer,
  checkpointId: string,
  refs: string,
  timestamp: boolean,
): Buffer | undefined {
  const [idPart, versionsPart] = derivedParts(checkpointId, decodeRefs(refs).channels);
  const idMs = timestamp ? uuid6Ms(checkpointId) : undefined;
  if (timestamp && idMs === undefined) return undefined;
  const text = restoreText(stored.toString("utf8"), idPart, versionsPart, idMs);
  return text === undefined ? undefined : Buffer.from(text, "utf8");
}

/** `idMs`: the checkpoint id's time when the timestamp was left out (uuid6Ms). */
function restoreText(text: string, idPart: string, versionsPart: string, idMs?: undefined): string;
function restoreText(text: string, idPart: string, versionsPart: string, idMs?: number): string | undefined;
function restoreText(text: string, idPart: string, versionsPart: string, idMs?: number): string | undefined {
  const restored = text.replace(EMPTY_ID, () => idPart).replace(EMPTY_VERSIONS, () => versionsPart);
  return idMs === undefined ? restored : restoreTimestamp(restored, idMs);
}

/** The time (Unix ms) a LangGraph checkpoint id was made at, or undefined for an id that is not a version 6 UUID. */
export function uuid6Ms(id: string): number | undefined {
  // The canonical lowercase layout, read character by character (no pattern, no slices: every put and read of a
  // packed record comes here): time_high (32 bits), time_mid (16), then the version digit and time_low (12).
  if (id.length !== 36) return undefined;
  let high = 0;
  let low = 0;
  for (let i = 0; i < 36; i++) {
    const code = id.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (code !== 0x2d) return undefined;
      continue;
    }
    const digit = code >= 0x30 && code <= 0x39 ? code - 0x30 : code >= 0x61 && code <= 0x66 ? code - 0x57 : -1;
    if (digit < 0 || (i === 14 && digit !== 6)) return undefined;
    if (i < 8) high = high * 16 + digit;
    else if (i < 18 && i !== 14) low = low * 16 + digit;
  }
  // 100-ns steps since 1582 take 60 bits. With 2^28 = 26,843 * 10,000 + 5,456, steps / 10,000 splits into terms a
  // double holds exactly.
  return high * 26_843 + Math.floor((high * 5_456 + low) / 10_000) - UUID_EPOCH_OFFSET_MS;
}

/** The bounds of the value of the first `"ts":"..."` in `text`, or undefined. */
function timestampOf(text: string): { start: number; end: number } | undefined {
  const at = text.indexOf(TS_KEY);
  if (at < 0) return undefined;
  const start = at + TS_KEY.length;
  const end = text.indexOf('"', start);
  return end < 0 ? undefined : { start, end };
}

/** `text` with the first `"ts":"<ISO time>"` written as the ms past the id's time, or undefined when it cannot be. */
function leaveOutTimestamp(text: string, idMs: number): string | undefined {
  const ts = timestampOf(text);
  const iso = ts && text.slice(ts.start, ts.end);
  if (ts === undefined || iso === undefined || !ISO_TS.test(iso)) return undefined;
  const offset = Date.parse(iso) - idMs;
  if (!Number.isSafeInteger(offset) || Math.abs(offset) > MAX_TS_OFFSET_MS) return undefined;
  return `${text.slice(0, ts.start)}${offset < 0 ? "-" : "+"}${Math.abs(offset)}${text.slice(ts.end)}`;
}

/** leaveOutTimestamp's inverse: undefined when the first `"ts":"` is not followed by a signed offset. */
function restoreTimestamp(text: string, idMs: number): string | undefined {
  const ts = timestampOf(text);
  const offset = ts && text.slice(ts.start, ts.end);
  if (ts === undefined || offset === undefined || !/^[+-]\d{1,10}$/.test(offset)) return undefined;
  const date = new Date(idMs + Number(offset));
  if (Number.isNaN(date.getTime())) return undefined;
  return `${text.slice(0, ts.start)}${date.toISOString()}${text.slice(ts.end)}`;
}

/** `"id":<id>` and `"channel_versions":{...}` as the serializer writes them, the versions as JSON numbers. */
function derivedParts(checkpointId: string, versions: readonly (readonly [string, string])[]): [string, string] {
  let entries = "";
  for (const [channel, version] of versions)
    entries += `${entries === "" ? "" : ","}${JSON.stringify(channel)}:${version}`;
  return [`"id":${JSON.stringify(checkpointId)}`, `"channel_versions":{${entries}}`];
}

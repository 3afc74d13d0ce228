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
 * that are numbers, as LangGraph's are; checkpoint keys in the usual order), and with packing id 2 otherwise.
 */
import { decodeRefs } from "./codec.js";

const EMPTY_ID = '"id":""';
const EMPTY_VERSIONS = '"channel_versions":{}';
const TS_KEY = '"ts":"';
/** A version 6 UUID as LangGraph writes checkpoint ids (lowercase, canonical). */
const UUID6 = /^[0-9a-f]{8}-[0-9a-f]{4}-6[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/;
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
  const text = bytes.toString("utf8");
  const [idPart, versionsPart] = derivedParts(checkpointId, versions ?? decodeRefs(refs).channels);
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
  if (!UUID6.test(id)) return undefined;
  // time_high (32 bits), time_mid (16), then the version digit and time_low (12): 100-ns steps since 1582, which
  // take 60 bits. With 2^28 = 26,843 * 10,000 + 5,456, steps / 10,000 splits into terms a double holds exactly.
  const high = Number.parseInt(id.slice(0, 8), 16);
  const low = Number.parseInt(id.slice(9, 13), 16) * 4096 + Number.parseInt(id.slice(15, 18), 16);
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

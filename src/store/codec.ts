import type { Item } from "@langchain/langgraph-checkpoint";
import { CorruptDataError, describeValue, InvalidInputError, ValueTooLargeError } from "../errors.js";
import { requireJsonValue } from "./json-value.js";
import type { ValueReader } from "./value-cipher.js";

/**
 * Bytes of store records. An item record is one header line written by the storePut script,
 * "version:createdMs:updatedMs:expireAtMs:ttlMs:writer", then the value; a history entry is
 * "version:op:atMs:writer" then the value (empty for a delete). Writers are URI-encoded. The value is the JSON, or
 * its compressed or sealed form (value-cipher.ts): binary, so records are read as bytes.
 */

export interface StoredRecord {
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** ms since epoch, null when the item never expires. */
  readonly expireAt: number | null;
  readonly ttlMs: number | null;
  readonly writer: string | null;
  readonly value: Record<string, unknown>;
}

/** What `history()` returns for one write of an item, newest first. */
export interface HistoryEntry {
  readonly version: number;
  readonly op: "put" | "delete";
  /** The value written (null for a delete). */
  readonly value: Record<string, unknown> | null;
  readonly writer: string | null;
  readonly at: Date;
}

const RECORD_HEADER = /^(\d+):(\d+):(\d+):(\d*):(\d*):([^\n]*)$/;
const HISTORY_HEADER = /^(\d+):(put|delete):(\d+):([^\n]*)$/;

export function isPlainValue(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Serialises a value for storage; throws before anything is written when it is not a JSON object or too big. */
export function encodeValue(value: unknown, what: string, maxBytes: number): string {
  if (!isPlainValue(value)) {
    throw new InvalidInputError(
      `${what}: the value must be a JSON object (or null to delete), got ${describeValue(value)}`,
    );
  }
  requireJsonValue(value, what);
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new InvalidInputError(`${what}: the value cannot be serialised as JSON`, { cause: error });
  }
  const bytes = Buffer.byteLength(json, "utf8");
  if (bytes > maxBytes) throw new ValueTooLargeError(what, bytes, maxBytes);
  return json;
}

export function encodeWriter(writer: string | null): string {
  return writer === null ? "" : encodeURIComponent(writer);
}

function decodeWriter(encoded: string): string | null {
  return encoded === "" ? null : decodeURIComponent(encoded);
}

function parseJsonObject(
  stored: Buffer,
  redisKey: string,
  field: string,
  reveal: ValueReader | undefined,
): Record<string, unknown> {
  const json = reveal === undefined ? stored.toString("utf8") : reveal(stored);
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new CorruptDataError(redisKey, `field "${field}" does not hold valid JSON`, { cause: error });
  }
  if (!isPlainValue(value)) throw new CorruptDataError(redisKey, `field "${field}" does not hold a JSON object`);
  return value;
}

/** A record's header line and the value bytes after it (null when it has no header line). */
function splitRecord(raw: Buffer | string): { header: string; body: Buffer } | null {
  const bytes = typeof raw === "string" ? Buffer.from(raw, "utf8") : raw;
  const newline = bytes.indexOf(0x0a);
  return newline < 0 ? null : { header: bytes.toString("utf8", 0, newline), body: bytes.subarray(newline + 1) };
}

/**
 * `reveal` turns the stored value into JSON (decompression, decryption, see value-cipher.ts); absent: stored as
 * JSON.
 */
export function decodeRecord(
  raw: Buffer | string,
  redisKey: string,
  field: string,
  reveal?: ValueReader,
): StoredRecord {
  const parts = splitRecord(raw);
  const match = parts === null ? null : RECORD_HEADER.exec(parts.header);
  if (!match) throw new CorruptDataError(redisKey, `field "${field}" has no readable item header`);
  const [, version, created, updated, expireAt, ttl, writer = ""] = match;
  let decodedWriter: string | null;
  try {
    decodedWriter = decodeWriter(writer);
  } catch (error) {
    throw new CorruptDataError(redisKey, `field "${field}" has an unreadable writer`, { cause: error });
  }
  return {
    version: Number(version),
    createdAt: Number(created),
    updatedAt: Number(updated),
    expireAt: expireAt ? Number(expireAt) : null,
    ttlMs: ttl ? Number(ttl) : null,
    writer: decodedWriter,
    value: parseJsonObject((parts as { body: Buffer }).body, redisKey, field, reveal),
  };
}

export function recordToItem(record: StoredRecord, namespace: readonly string[], key: string): Item {
  return {
    value: record.value,
    key,
    namespace: [...namespace],
    createdAt: new Date(record.createdAt),
    updatedAt: new Date(record.updatedAt),
  };
}

export function decodeHistoryEntry(raw: Buffer | string, redisKey: string, reveal?: ValueReader): HistoryEntry {
  const parts = splitRecord(raw);
  const match = parts === null ? null : HISTORY_HEADER.exec(parts.header);
  if (!match) throw new CorruptDataError(redisKey, "a history entry has no readable header");
  const [, version, op, at, writer = ""] = match;
  const body = (parts as { body: Buffer }).body;
  let decodedWriter: string | null;
  try {
    decodedWriter = decodeWriter(writer);
  } catch (error) {
    throw new CorruptDataError(redisKey, "a history entry has an unreadable writer", { cause: error });
  }
  return {
    version: Number(version),
    op: op as "put" | "delete",
    value: op === "delete" ? null : parseJsonObject(body, redisKey, `version ${version}`, reveal),
    writer: decodedWriter,
    at: new Date(Number(at)),
  };
}

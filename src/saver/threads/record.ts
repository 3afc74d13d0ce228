/**
 * What the thread registry stores and how it reads back: statuses, the record text (see include threadRecord.lua),
 * metadata values as JSON, the lex index members search ranges over, and search cursors.
 */
import { z } from "zod";
import { CorruptDataError, describeValue, InvalidInputError } from "../../errors.js";

/** A thread's status: `busy` while a leased run holds it; after the run, how it ended. */
export type ThreadStatus = "idle" | "busy" | "interrupted" | "error";

export const THREAD_STATUSES: readonly ThreadStatus[] = ["idle", "busy", "interrupted", "error"];

const fieldNameSchema = z
  .string()
  .min(1)
  .max(200)
  .refine((name) => !name.includes("\u0000"), { message: "a field name without NUL characters" });

/** Options of the thread registry (RedisSaver `threads`). */
export const threadRegistryOptionsSchema = z.strictObject({
  /**
   * Metadata fields search can filter on, each kept in an index by the writes that set it. Values of these fields
   * must be strings, numbers or booleans. Default: none.
   */
  indexedMetadata: z.array(fieldNameSchema).max(32).default([]),
});

export type ThreadRegistryOptions = z.input<typeof threadRegistryOptionsSchema>;

/** One thread as the registry knows it. */
export interface ThreadInfo {
  readonly threadId: string;
  readonly status: ThreadStatus;
  /** When the registry first saw the thread (Redis server clock). */
  readonly createdAt: Date;
  /** The thread's last write or status change (Redis server clock). */
  readonly updatedAt: Date;
  /** Metadata set with threads.update, and the indexed fields taken from the runs' config metadata. */
  readonly metadata: Record<string, unknown>;
}

const CREATED_DIGITS = 15;

/** Decodes a record read from `key`; CorruptDataError when it does not have the registry's form. */
export function decodeThreadRecord(
  threadId: string,
  text: string,
  updatedMs: number | undefined,
  key: string,
): ThreadInfo {
  const parts = text.split("\u0000");
  const [created = "", status = ""] = parts;
  const corrupt = (why: string) =>
    new CorruptDataError(key, `the registry record of thread ${JSON.stringify(threadId)} ${why}`);
  if (!/^\d{15}$/.test(created)) throw corrupt("has no creation time");
  if (!(THREAD_STATUSES as readonly string[]).includes(status))
    throw corrupt(`has an unknown status ${JSON.stringify(status)}`);
  if (parts.length % 2 !== 0) throw corrupt("has a metadata field without a value");
  const metadata: Record<string, unknown> = {};
  for (let i = 2; i + 1 < parts.length; i += 2) {
    try {
      metadata[parts[i] as string] = JSON.parse(parts[i + 1] as string);
    } catch (error) {
      throw new CorruptDataError(
        key,
        `the registry record of thread ${JSON.stringify(threadId)} holds a value that is not JSON`,
        {
          cause: error,
        },
      );
    }
  }
  const createdMs = Number(created);
  return {
    threadId,
    status: status as ThreadStatus,
    createdAt: new Date(createdMs),
    updatedAt: new Date(updatedMs ?? createdMs),
    metadata,
  };
}

/** Refuses a status that is not one of THREAD_STATUSES. */
export function requireStatus(status: unknown, operation: string): ThreadStatus {
  if (typeof status !== "string" || !(THREAD_STATUSES as readonly string[]).includes(status)) {
    throw new InvalidInputError(
      `${operation}: status must be one of ${THREAD_STATUSES.join(", ")}, received ${describeValue(status)}`,
    );
  }
  return status as ThreadStatus;
}

/** A value an indexed field can hold (and a search can match), as the JSON text the index compares. */
export function indexedValueJson(field: string, value: unknown, operation: string): string {
  if (
    typeof value === "string" ||
    typeof value === "boolean" ||
    (typeof value === "number" && Number.isFinite(value))
  ) {
    return JSON.stringify(value);
  }
  throw new InvalidInputError(
    `${operation}: metadata field ${JSON.stringify(field)} is indexed, so its value must be a string, a finite ` +
      `number or a boolean, received ${describeValue(value)}`,
  );
}

/**
 * Metadata as script arguments: pairs (field, value as JSON), "" for a field to remove (null or undefined). Field
 * names must be non-empty and hold no NUL; values must be JSON-serialisable (scalars for indexed fields).
 */
export function metadataPairs(
  metadata: Record<string, unknown>,
  indexed: ReadonlySet<string>,
  operation: string,
): string[] {
  if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata)) {
    throw new InvalidInputError(`${operation}: metadata must be an object, received ${describeValue(metadata)}`);
  }
  const pairs: string[] = [];
  for (const [field, value] of Object.entries(metadata)) {
    if (field === "" || field.includes("\u0000")) {
      throw new InvalidInputError(
        `${operation}: metadata field names must be non-empty without NUL, received ${JSON.stringify(field)}`,
      );
    }
    if (value === undefined || value === null) {
      pairs.push(field, "");
      continue;
    }
    if (indexed.has(field)) {
      pairs.push(field, indexedValueJson(field, value, operation));
      continue;
    }
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (error) {
      throw new InvalidInputError(`${operation}: metadata field ${JSON.stringify(field)} cannot be stored as JSON`, {
        cause: error,
      });
    }
    if (json === undefined) {
      throw new InvalidInputError(
        `${operation}: metadata field ${JSON.stringify(field)} cannot be stored as JSON, received ${describeValue(value)}`,
      );
    }
    pairs.push(field, json);
  }
  return pairs;
}

// ---- index members (see ThreadRegistryKeys.index) ----

/** The prefix of every member of one index range: all threads, one status, or one value of an indexed field. */
export function rangePrefix(drive: { status?: ThreadStatus; field?: string; valueJson?: string }): string {
  if (drive.field !== undefined) return `m\u0000${drive.field}\u0000${drive.valueJson}\u0000`;
  if (drive.status !== undefined) return `s\u0000${drive.status}\u0000`;
  return "c\u0000";
}

/** The position part of a member (after its range prefix): `<created, 15 digits>\0<thread id>`. */
export function positionOf(member: string, prefix: string): { position: string; createdMs: number; threadId: string } {
  const position = member.slice(prefix.length);
  return {
    position,
    createdMs: Number(position.slice(0, CREATED_DIGITS)),
    threadId: position.slice(CREATED_DIGITS + 1),
  };
}

/** A search cursor: the position of the last thread returned, opaque to callers. */
export function encodeCursor(position: string): string {
  return Buffer.from(position, "utf8").toString("base64url");
}

export function decodeCursor(cursor: unknown, operation: string): string {
  if (typeof cursor !== "string" || cursor === "") {
    throw new InvalidInputError(
      `${operation}: cursor must be a string a search returned, received ${describeValue(cursor)}`,
    );
  }
  const position = Buffer.from(cursor, "base64url").toString("utf8");
  if (!/^\d{15}$/.test(position.slice(0, 15)) || position[15] !== "\u0000" || encodeCursor(position) !== cursor) {
    throw new InvalidInputError(`${operation}: cursor ${JSON.stringify(cursor)} is not one a search returned`);
  }
  return position;
}

/** Orders positions as Redis orders members (bytes), newest first. */
export function comparePositionsNewestFirst(a: string, b: string): number {
  return Buffer.compare(Buffer.from(b, "utf8"), Buffer.from(a, "utf8"));
}

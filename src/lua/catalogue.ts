/**
 * Every Lua script of src/lua/, declared once: the names of its KEYS in KEYS order, the tuple of its ARGV, and a
 * decoder that turns its reply into a typed result. The header of each .lua file says what the keys, arguments and
 * results mean; this file is where the order is written down for the TypeScript side.
 *
 * Key names: "name" is required, "name?" optional (passed only when given; optional keys come last), "...name" a
 * list of keys spread at that position.
 *
 * Audited writes: "outbox?" (always the last key) is the audit outbox stream; a call that passes it also appends the
 * event context (JSON) after its last argument, with withAuditEvent() (src/audit/outbox.ts). The include
 * auditOutbox takes both off before the script reads KEYS and ARGV.
 */
import { CorruptDataError } from "../errors.js";
import { parseRunLeaseMember, storeNamespaceFromMember } from "../keys.js";
import { type LeaseHolder, parseHolder, parseOptionalHolder } from "../recovery/lease/lease-holder.js";
import { splitWriteBundle } from "../saver/write-frame.js";
import { decodeRecord, type StoredRecord } from "../store/codec.js";
import type { ValueReader } from "../store/value-cipher.js";
import type { ScriptName as LuaFileName } from "./generated.js";

export type ScriptArg = string | number | Buffer;

/** The named keys of a script, from its declared key names. */
export type KeyMap<K extends readonly string[]> = {
  readonly [N in K[number] as N extends `...${string}` | `${string}?` ? never : N]: string;
} & {
  readonly [N in K[number] as N extends `${infer B}?` ? B : never]?: string | undefined;
} & {
  readonly [N in K[number] as N extends `...${infer B}` ? B : never]: readonly string[];
};

interface ScriptSpec<K extends readonly string[], A extends readonly ScriptArg[], R> {
  readonly keys: K;
  /** Bulk replies as Buffers (binary payloads) rather than strings. */
  readonly buffers?: boolean;
  readonly decode: (reply: unknown, keys: KeyMap<K>, args: A) => R;
}

/** Declares one script: `script<ArgsTuple>()({ keys, decode })` (the keys and the result type are inferred). */
function script<A extends readonly ScriptArg[]>() {
  return <const K extends readonly string[], R>(spec: ScriptSpec<K, A, R>): ScriptSpec<K, A, R> => spec;
}

const asNumber = (reply: unknown) => Number(reply);
const isOne = (reply: unknown) => Number(reply) === 1;
const text = (value: unknown) => (Buffer.isBuffer(value) ? value.toString("utf8") : String(value ?? ""));

/**
 * One page of the DeltaChannel history walk (include deltaHistoryWalk), as saverDeltaHistory returns it and
 * saverRead sends it with a checkpoint: its parts cursor, entries, pieces, seeds, bases, stopped and visited.
 */
type HistoryPageParts = [
  cursor: Buffer,
  entries: Buffer,
  pieces: Buffer[],
  seedList: unknown[],
  baseList: Buffer[],
  stopped: unknown,
  visitedList: Buffer,
];

function decodeHistoryPage(...[cursor, entries, pieces, seedList, baseList, stopped, visitedList]: HistoryPageParts) {
  const seeds: { channel: string; field: string; blob: Buffer; entry: number; visit: number }[] = [];
  for (let i = 0; i + 4 < seedList.length; i += 5) {
    seeds.push({
      channel: text(seedList[i]),
      field: text(seedList[i + 1]),
      blob: seedList[i + 2] as Buffer,
      entry: Number(seedList[i + 3]),
      visit: Number(seedList[i + 4]),
    });
  }
  // Per ancestor visited: a byte (1 with an entry), its escaped id, "\n".
  const visited: { id: string; entries: number }[] = [];
  let entryCount = 0;
  for (const line of text(visitedList).split("\n")) {
    if (line === "") continue;
    if (line.charCodeAt(0) === 1) entryCount++;
    visited.push({ id: line.slice(1), entries: entryCount });
  }
  return {
    /** The escaped id of the next ancestor to visit; "" when the walk is over. */
    cursor: text(cursor),
    /** A 4-byte number per ancestor visited with pieces, newest first: 2 * overflow writes + (1 with a bundle). */
    entries,
    /** Those ancestors' stored bundles and overflow writes, in the same order. */
    pieces,
    /**
     * The seeds found on this page, newest first; `entry`: the entries (1-based) its channel is walked through;
     * `visit`: the ancestor that holds it (1-based, in `visited`).
     */
    seeds,
    /** Every ancestor visited, newest first: its escaped id and the page's entries up to and including its own. */
    visited,
    /** Blob field -> stored blob: the bases the page's delta-encoded seeds need. */
    bases: pairs(baseList),
    /** The walk ended at stopAt: the history held for stopAt follows this one. */
    stopped: Number(stopped) === 1,
  };
}

/** A page of the history walk, decoded (decodeHistoryPage). */
export type HistoryPageReply = ReturnType<typeof decodeHistoryPage>;

const THREAD_KEYS = [
  "checkpoints",
  "blobs",
  "byNamespace",
  "byId",
  "writes",
  "writesIndex",
  "runFences",
  "byRun",
] as const;
const NAMESPACE_KEYS = ["items", "order", "expiry", "vectors", "state"] as const;
const LEASE_KEYS = ["index", "holders"] as const;
const RUN_LEASE_KEYS = ["index", "holders", "runs"] as const;
const THREAD_REGISTRY_KEYS = ["updated", "records", "index"] as const;

/** One checkpoint as saverRead returns it (bytes not yet decoded). */
export interface RawCheckpoint {
  field: Buffer;
  /** Framed: refs text, checkpoint type and bytes, metadata type and bytes. */
  record: Buffer;
  blobValues: (Buffer | null)[];
  /** The checkpoint's pending writes, framed: its bundle's, then its overflow writes (see src/saver/codec.ts). */
  writeValues: (Buffer | null)[];
  /** How many of writeValues, from the first, come from a bundle the checkpoint's record carries (0: none). */
  bundleWritesInRecord?: number;
  /** Blob field -> stored blob: the bases the page's delta blobs need (shared by every checkpoint of the page). */
  bases: ReadonlyMap<string, Buffer>;
  /** Blob field -> value bytes the client held and the script did not send (blobValues holds "" for them). */
  held?: ReadonlyMap<string, HeldBlob>;
  /** The thread's history epoch, read with the checkpoint (when the read asked for it: src/saver/read.ts). */
  epoch?: string;
}

/** A channel value this process wrote last and still holds: its serializer type and serialized bytes. */
export interface HeldBlob {
  readonly type: string;
  readonly bytes: Uint8Array;
  /** Length of the blob as stored (the read script compares it). */
  readonly storedLength: number;
}

/** One entry of the lease index whose lease or claim has expired. */
export interface ExpiredLease {
  readonly member: string;
  readonly threadId: string;
  readonly checkpointNs: string;
  /** When the lease (or claim) expired: Unix ms, Redis server clock. */
  readonly expiredAtMs: number;
  readonly holder: LeaseHolder;
}

/**
 * saverPut: how many blobs were stored (notListIndex: the thread's checkpoint index is not a LIST); or the newer
 * lease token that refused the write; or the pair (1 for the first) whose delta blob names a base that is not
 * stored. Nothing is written in the last two cases.
 */
export type StoredReply =
  | {
      stored: number;
      newerToken?: undefined;
      missingBasePair?: undefined;
      alone?: true;
      notListIndex?: true;
      /** Escaped ids of the runs whose last checkpoint on the thread the put's retention removed. */
      forgottenRuns?: readonly string[];
      /** saverPut on a cluster: the thread held no checkpoint of the put's run before. */
      freshRun?: true;
    }
  | { stored?: undefined; newerToken: number; missingBasePair?: undefined; alone?: undefined; notListIndex?: undefined }
  | {
      stored?: undefined;
      newerToken?: undefined;
      missingBasePair: number;
      alone?: undefined;
      notListIndex?: undefined;
    };
const storedOrFenced = (reply: unknown): StoredReply => {
  // Stored, and the put's retention removed the last checkpoints of these runs on the thread, or (a cluster) the
  // thread held no checkpoint of the put's run before.
  if (Array.isArray(reply) && Number(reply[0]) === -4) {
    const inner = storedOrFenced(reply[1]);
    const runs = Array.isArray(reply[2]) ? (reply[2] as unknown[]).map(text) : [];
    if (inner.stored === undefined) return inner;
    return { ...inner, forgottenRuns: runs, ...(Number(reply[3]) === 1 ? { freshRun: true as const } : {}) };
  }
  // Stored, on a thread whose checkpoint index is not a LIST: the put scripts' "l" flag does not apply to it.
  if (Array.isArray(reply) && Number(reply[0]) === -3) {
    const inner = storedOrFenced(reply[1]);
    return inner.stored === undefined ? inner : { ...inner, notListIndex: true };
  }
  if (Array.isArray(reply) && Number(reply[0]) === -1) return { newerToken: Number(reply[1]) };
  // saverPutCompact on a cluster, asked not to expect a touch: the checkpoint is its thread's only one.
  if (Array.isArray(reply) && Number(reply[0]) === -2) return { stored: Number(reply[1]), alone: true };
  const count = Number(reply);
  return count < 0 ? { missingBasePair: -count } : { stored: count };
};

/** saverPutWrites: how many writes were stored; or the newer lease token that refused them; or unreadable: the
 * checkpoint's stored bundle cannot be read (nothing written in the last two cases). */
export type WritesReply =
  | { stored: number; newerToken?: undefined; unreadable?: undefined }
  | { stored?: undefined; newerToken: number; unreadable?: undefined }
  | { stored?: undefined; newerToken?: undefined; unreadable: true };
const writesOrFenced = (reply: unknown): WritesReply => {
  if (Array.isArray(reply) && Number(reply[0]) === -1) return { newerToken: Number(reply[1]) };
  const count = Number(reply);
  return count < 0 ? { unreadable: true } : { stored: count };
};

const holderOf = (value: unknown, key: string) => {
  const holder = parseOptionalHolder(value, key);
  return holder ? { holder } : {};
};

export const SCRIPTS = {
  // ---- saver ----
  saverPut: script<
    [
      ttlMs: number,
      field: string,
      record: Buffer,
      threadId: string,
      graceMs: number,
      fenceField: string,
      fenceToken: number,
      runId: string,
      retention: string,
      flags: string,
      ...blobs: ScriptArg[],
    ]
  >()({ keys: [...THREAD_KEYS, "threadIndex?", "runThreads?", "outbox?"], decode: storedOrFenced }),
  /** saverPut's common case: no TTL, lease fence, run id or retention (see saverPutCompact.lua); byId only with
   * the "u" flag. */
  saverPutCompact: script<[field: string, record: Buffer, threadId: string, flags: string, ...blobs: ScriptArg[]]>()({
    keys: ["checkpoints", "blobs", "byNamespace", "threadIndex?", "byId?", "outbox?"],
    decode: storedOrFenced,
  }),
  saverPutWrites: script<
    [
      ttlMs: number,
      threadId: string,
      graceMs: number,
      fenceField: string,
      fenceToken: number,
      field: string,
      ...entries: ScriptArg[],
    ]
  >()({
    keys: [...THREAD_KEYS, "threadIndex?", "outbox?"],
    decode: writesOrFenced,
  }),
  /** saverPutWrites' common case: no TTL and no lease fence (see saverPutWritesCompact.lua). */
  saverPutWritesCompact: script<[field: string, ...entries: ScriptArg[]]>()({
    keys: ["writes", "writesIndex", "checkpoints", "outbox?"],
    decode: writesOrFenced,
  }),
  /** Records a run's lease token on its thread; `newest` is the token recorded when a newer one refused it. */
  /** One bounded step of prune() on one thread (see saverPrune.lua); nextNs undefined when no namespace follows. */
  saverPrune: script<[keepLast: number, ns: string, maxDeletes: number, maxVisits: number, checkLimit: number]>()({
    keys: [...THREAD_KEYS, "outbox?"],
    decode: (reply) => {
      const [pinned, checkpoints, writes, blobs, more, nextNs, runs, sweep] = reply as unknown[];
      return {
        pinned: Number(pinned) === 1,
        /** keepLast 0 refused: a live leased run is writing the thread. */
        leased: Number(pinned) === 2,
        checkpoints: Number(checkpoints),
        writes: Number(writes),
        blobs: Number(blobs),
        more: Number(more) === 1,
        nextNs: typeof nextNs === "string" || Buffer.isBuffer(nextNs) ? text(nextNs) : undefined,
        /** Escaped ids of the runs whose last checkpoint on the thread went (all of them with keepLast 0). */
        forgottenRuns: Array.isArray(runs) ? (runs as unknown[]).map(text) : [],
        /** The thread is marked for saverSweepBlobs. */
        sweep: Number(sweep) === 1,
      };
    },
  }),
  /** One page of prune()'s blob sweep (see saverSweepBlobs.lua); cursor "0" when the pass is over. */
  saverSweepBlobs: script<[cursor: string, count: number, maxRecords: number, keepLast: number]>()({
    keys: ["checkpoints", "blobs", "byNamespace", "runFences", "outbox?"],
    decode: (reply) => {
      const [cursor, blobs, records] = reply as unknown[];
      return { cursor: text(cursor), blobs: Number(blobs), records: Number(records) };
    },
  }),
  /** Pins ("1") or unpins ("0") a thread; true when the mark changed. */
  saverPin: script<[pinned: "1" | "0", ttlMs: number]>()({ keys: ["runFences"], decode: isOne }),
  saverRaiseRunFence: script<
    | [field: string, token: number, ttlMs: number]
    | [field: string, token: number, ttlMs: number, liveMs: number, runId: string]
  >()({
    keys: ["runFences"],
    decode: (reply) => {
      const [code, newest] = (reply as unknown[]).map(Number);
      return { recorded: code === 1, newest: newest ?? 0 };
    },
  }),
  saverRead: script<
    [
      index: "ns" | "id",
      max: string,
      min: string,
      limit: number,
      ttlMs: number,
      withEpoch: "1" | "2" | "",
      historyMaxVisits: number,
      historyMaxBytes: number,
      historyStopAt: string,
      historyHeldEpoch: string,
      ...held: ScriptArg[],
    ]
  >()({
    keys: THREAD_KEYS,
    buffers: true,
    decode: (reply) => {
      const [hasCheckpoints, entries, baseList = [], epoch, history] = reply as [
        number,
        [Buffer, Buffer, (Buffer | null)[], (Buffer | null)[], Buffer | null, number][],
        Buffer[] | undefined,
        Buffer | undefined,
        [Buffer[], Buffer, Buffer, Buffer[], unknown[], Buffer[], unknown, Buffer] | undefined,
      ];
      const bases = pairs(baseList);
      return {
        /** Whether the thread holds any checkpoint (in any namespace). */
        hasCheckpoints: Number(hasCheckpoints) > 0,
        /** The thread's history epoch as of this read, when asked for (withEpoch). */
        epoch: epoch?.toString("utf8"),
        /**
         * With withEpoch "2": the first page of the history walk of the one checkpoint read, for the channels its
         * refs leave to history (`channels`).
         */
        history:
          history === undefined
            ? undefined
            : { channels: history[0].map(text), ...decodeHistoryPage(...(history.slice(1) as HistoryPageParts)) },
        checkpoints: entries.map(([field, record, blobValues, overflow, bundle, inRecord]): RawCheckpoint => {
          const bundled = bundle ? splitWriteBundle(bundle) : [];
          return {
            field,
            record,
            blobValues,
            writeValues: bundle ? [...bundled, ...overflow] : overflow,
            bundleWritesInRecord: Number(inRecord) === 1 ? bundled.length : 0,
            bases,
          };
        }),
      };
    },
  }),
  saverDeltaHistory: script<
    [
      ns: string,
      checkpointId: string,
      start: "target" | "from",
      maxVisits: number,
      maxBytes: number,
      ttlMs: number,
      stopAt: string,
      heldEpoch: string,
      ...channels: string[],
    ]
  >()({
    keys: THREAD_KEYS,
    buffers: true,
    decode: (reply) => {
      const [cursor, entries, pieces, seedList, baseList, stopped, epoch, visitedList] = reply as [
        Buffer,
        Buffer,
        Buffer[],
        unknown[],
        Buffer[],
        unknown,
        unknown,
        Buffer,
      ];
      return {
        ...decodeHistoryPage(cursor, entries, pieces, seedList, baseList, stopped, visitedList),
        /** The thread's history epoch (include historyEpoch): what the client holds counts while it stays. */
        epoch: text(epoch),
      };
    },
  }),
  saverRecordRun: script<[threadId: string, ttlMs: number, graceMs: number]>()({
    keys: ["runThreads"],
    decode: asNumber,
  }),
  /** The counts removed, or (nothing removed) the live runs writing the thread, other than the caller's own. */
  saverDeleteForRuns: script<[fenceField: string, fenceToken: number, checkLimit: number, ...runIds: string[]]>()({
    keys: [...THREAD_KEYS, "outbox?"],
    buffers: true,
    decode: (reply) => {
      const list = reply as unknown[];
      if (Number(list[0]) === -1) {
        return { checkpoints: 0, writes: 0, blobs: 0, deferred: [], liveRuns: list.slice(1).map(text) };
      }
      const [checkpoints = 0, writes = 0, blobs = 0] = list.slice(0, 3).map(Number);
      /** The namespaces whose blob check is left to saverCheckBlobs, with their candidate blob fields (bytes). */
      const deferred = ((list[3] ?? []) as Buffer[][]).map(([ns, ...candidates]) => ({
        ns: ns as Buffer,
        candidates,
      }));
      return { checkpoints, writes, blobs, deferred, liveRuns: undefined };
    },
  }),
  /** One page of deleteForRuns' blob check on a long namespace (see saverCheckBlobs.lua). */
  saverCheckBlobs: script<
    [ns: Buffer, after: Buffer | string, count: number, read: number, last: "1" | "0", ...candidates: Buffer[]]
  >()({
    keys: ["checkpoints", "blobs", "byNamespace", "runFences", "outbox?"],
    buffers: true,
    decode: (reply) => {
      const [after, read, needed, removed] = reply as [Buffer, number, Buffer[], number];
      return {
        /** The last index member read; empty once the namespace's end was reached. */
        after,
        read: Number(read),
        /** Candidates the page's checkpoints need: no longer candidates. */
        needed,
        /** Blobs deleted at the end; -1 before the end; -2: the end found the namespace changed, nothing deleted. */
        removed: Number(removed),
      };
    },
  }),
  /** Keys removed, or the live runs that refused the delete. */
  saverDeleteThread: script<[]>()({
    keys: THREAD_KEYS,
    decode: (reply) => {
      const [removed, runs] = reply as unknown[];
      return Number(removed) === -1
        ? { removed: 0, liveRuns: (reply as unknown[]).slice(1).map(text), forgottenRuns: [] }
        : { removed: Number(removed), liveRuns: undefined, forgottenRuns: (runs as unknown[]).map(text) };
    },
  }),
  /** Refreshes (liveMs > 0) or removes (0) a leased run's live mark on its thread; true when there was one. */
  saverMarkRunLive: script<[field: string, token: number, liveMs: number, runId: string]>()({
    keys: ["runFences"],
    decode: isOne,
  }),
  saverExportThread: script<[]>()({
    keys: THREAD_KEYS,
    buffers: true,
    decode: (reply) => {
      const [checkpoints, blobs, writes, runMembers, sweep] = reply as [Buffer[], Buffer[], Buffer[], Buffer[], number];
      // sweep: the source is marked for prune's blob sweep (see saverExportThread.lua).
      return { checkpoints, blobs, writes, runMembers, sweep: Number(sweep) === 1 };
    },
  }),
  /**
   * The number of checkpoints written, -1 when the destination already had data, or the live runs writing the
   * destination (nothing written in the last two cases).
   */
  saverImportThread: script<
    [
      ttlMs: number,
      threadId: string,
      graceMs: number,
      checkpoints: number,
      blobs: number,
      writes: number,
      runMembers: number,
      flags: "" | "z" | "s" | "zs",
      ...data: ScriptArg[],
    ]
  >()({
    keys: [...THREAD_KEYS, "threadIndex?", "outbox?"],
    decode: (reply): { copied: number; liveRuns?: string[] } =>
      Array.isArray(reply) ? { copied: -2, liveRuns: reply.slice(1).map(text) } : { copied: Number(reply) },
  }),
  saverTouchThread: script<[threadId: string]>()({ keys: ["threadIndex"], decode: asNumber }),
  /** True when the thread's cross-thread index entry was removed. */
  saverForgetThread: script<[threadId: string, seenScore: string, ttlMs: number]>()({
    keys: THREAD_REGISTRY_KEYS,
    decode: isOne,
  }),
  /** The record as stored and the thread's updated time (undefined when it was never written). */
  saverRegisterThread: script<
    [
      threadId: string,
      ttlMs: number,
      graceMs: number,
      status: string,
      touch: "1" | "0" | "w",
      indexed: number,
      ...fieldsAndPairs: string[],
    ]
  >()({
    keys: THREAD_REGISTRY_KEYS,
    decode: (reply) => {
      const [record, updated] = reply as [unknown, unknown];
      const updatedText = text(updated);
      return { record: text(record), updatedMs: updatedText === "" ? undefined : Number(updatedText) };
    },
  }),
  /** The server time, and per index member found: the member, its thread's record and updated time. */
  saverSearchThreads: script<[max: string, min: string, limit: number, prefixLength: number]>()({
    keys: THREAD_REGISTRY_KEYS,
    decode: (reply) => {
      const flat = reply as unknown[];
      const entries: { member: string; record: string | undefined; updatedMs: number | undefined }[] = [];
      for (let i = 1; i + 2 < flat.length; i += 3) {
        const record = text(flat[i + 1]);
        const updated = text(flat[i + 2]);
        entries.push({
          member: text(flat[i]),
          record: record === "" ? undefined : record,
          updatedMs: updated === "" ? undefined : Number(updated),
        });
      }
      return { nowMs: Number(flat[0]), entries };
    },
  }),
  /** The server time, and per thread id asked for: its record and updated time (undefined when missing). */
  saverReadThreads: script<string[]>()({
    keys: ["updated", "records"],
    decode: (reply) => {
      const flat = reply as unknown[];
      const entries: { record: string | undefined; updatedMs: number | undefined }[] = [];
      for (let i = 1; i + 1 < flat.length; i += 2) {
        const record = text(flat[i]);
        const updated = text(flat[i + 1]);
        entries.push({
          record: record === "" ? undefined : record,
          updatedMs: updated === "" ? undefined : Number(updated),
        });
      }
      return { nowMs: Number(flat[0]), entries };
    },
  }),

  // ---- store ----
  storeGet: script<[key: string, refresh: "1" | "0", graceMs: number, indexCount: number]>()({
    keys: [...NAMESPACE_KEYS, "history", "fenceMarks", "...fieldIndexes"],
    buffers: true,
    decode: (reply, keys, [key]): StoredRecord | null => decodeStoreGet(reply, keys.items, key),
  }),
  storePut: script<
    [
      key: string,
      op: "put" | "delete",
      value: string | Buffer,
      vectors: Buffer | "",
      ttlMs: number | "",
      writer: string,
      expectedVersion: number | "",
      fenceLock: string,
      fenceToken: number,
      historyLimit: number,
      member: string,
      confirmEpoch: number | "",
      purgeLimit: number,
      graceMs: number,
      writeId: string,
      fieldScores: string,
      indexCount: number,
    ]
  >()({
    keys: [
      ...NAMESPACE_KEYS,
      "history",
      "fenceMarks",
      "fenceCounter?",
      "names?",
      "seq?",
      "clock?",
      "...fieldIndexes",
      "outbox?",
    ],
    decode: (reply) => {
      const [code, a = 0, b = 0, c = 0, d = 0] = (reply as unknown[]).map(Number);
      switch (code) {
        case 1:
          return { kind: "written", version: a, createdAt: b, updatedAt: c, retiredEpoch: d } as const;
        case 2:
          return { kind: "register" } as const;
        case -1:
          return { kind: "conflict", actual: a } as const;
        case -2:
          return { kind: "fenced", newest: a } as const;
        case -4:
          return { kind: "fence-unknown" } as const;
        case -5:
          return { kind: "fence-not-issued", newest: a } as const;
        default:
          return { kind: "corrupt" } as const;
      }
    },
  }),
  storeReadNamespace: script<
    [
      mode: "count" | "items" | "vectors",
      member: string,
      seq: number,
      purgeLimit: number,
      graceMs: number,
      skip: number,
      take: number | "",
      conditions: string,
      indexCount: number,
    ]
  >()({
    keys: [...NAMESPACE_KEYS, "names?", "seq?", "...fieldIndexes"],
    buffers: true,
    decode: (reply, keys) => decodeStoreReadNamespace(reply, keys.items),
  }),
  /** Arguments: grace, the item keys, then the number of filter index keys. */
  storeRefresh: script<[graceMs: number, ...itemKeysThenIndexCount: (string | number)[]]>()({
    keys: [...NAMESPACE_KEYS, "...itemKeys", "...fieldIndexes"],
    decode: asNumber,
  }),
  /** Arguments: triples of item key, version read, scores; then the number of filter index keys. */
  storeReindex: script<(string | number)[]>()({ keys: ["items", "...fieldIndexes"], decode: asNumber }),
  /** Arguments: pairs of member, proposed sequence. Result: the sequences issued, in member order. */
  storeRegister: script<(string | number)[]>()({
    keys: ["names", "seq", "clock"],
    decode: (reply) => (reply as unknown[]).map(Number),
  }),
  storeRegistryRead: script<[min: string, max: string] | [min: string, max: string, limit: number]>()({
    keys: ["...buckets"],
    decode: (reply) => {
      const flat = reply as unknown[];
      const out: { readonly namespace: string[]; readonly member: string; readonly seq: number }[] = [];
      for (let i = 0; i < flat.length; i += 2) {
        const member = String(flat[i]);
        out.push({ namespace: storeNamespaceFromMember(member), member, seq: Number(flat[i + 1]) });
      }
      return out;
    },
  }),
  /** Arguments: pairs of member, registration sequence. Result: how many were dropped. */
  storeUnregister: script<(string | number)[]>()({ keys: ["names", "seq"], decode: asNumber }),

  // ---- node cache ----
  /** Per cache key asked for, in order: the payload (serializer type, newline, bytes), or null (missing, expired). */
  cacheGet: script<string[]>()({
    keys: ["entries"],
    buffers: true,
    decode: (reply) => (reply as (Buffer | null)[]).map((payload) => payload ?? null),
  }),
  /** The number of entries left in the bucket. */
  cacheSet: script<[pruneLimit: number, ...entries: ScriptArg[]]>()({ keys: ["entries", "expiry"], decode: asNumber }),
  // ---- guard ----
  /** The new fencing token, or undefined when the caller no longer holds the lock. */
  guardIssueFenceToken: script<[identifier: string, lockTimeoutMs: number, fenceTtlMs: number]>()({
    keys: ["mutex", "counter", "outbox?"],
    decode: (reply) => {
      const token = Number(reply);
      return token > 0 ? token : undefined;
    },
  }),
  /** True when the lock was still the caller's and is released (and recorded). */
  guardReleaseLockAudited: script<[identifier: string]>()({ keys: ["mutex", "outbox"], decode: isOne }),

  // ---- audit ----
  auditRecord: script<[kind: string]>()({ keys: ["outbox"], decode: asNumber }),

  // ---- recovery ----
  recoveryAcquireLease: script<[member: string, owner: string, leaseMs: number, claimToken: string, runId: string]>()({
    keys: [...LEASE_KEYS, "counter", "runs", "outbox?"],
    decode: (reply, keys) => {
      const [code, a, b, c] = reply as [number, unknown, unknown?, unknown?];
      if (code === 1) {
        return { acquired: true, token: Number(a), expiresAtMs: Number(b), ...replacedOf(c, keys.holders) } as const;
      }
      if (code === -1) {
        return { acquired: false, reason: "held", expiresAtMs: Number(b), ...holderOf(a, keys.holders) } as const;
      }
      return { acquired: false, reason: "claim-lost", ...holderOf(a, keys.holders) } as const;
    },
  }),
  recoveryClaimRun: script<[member: string, expectedToken: string, claimer: string, claimMs: number]>()({
    keys: [...LEASE_KEYS, "counter", "runs", "outbox?"],
    decode: (reply, keys) => {
      const [code, a, b] = reply as [number, unknown, unknown?];
      if (code === 1) return { claimed: true, token: Number(a), expiresAtMs: Number(b) } as const;
      if (code === 0) return { claimed: false, reason: "gone" } as const;
      if (code === -1) return { claimed: false, reason: "taken", ...holderOf(a, keys.holders) } as const;
      return { claimed: false, reason: "alive", expiresAtMs: Number(b), ...holderOf(a, keys.holders) } as const;
    },
  }),
  /** Not renewed: held under another token (`holder`), or the entry is gone (no `holder`). */
  recoveryHeartbeatLease: script<[member: string, token: string, leaseMs: number]>()({
    keys: RUN_LEASE_KEYS,
    decode: (reply, keys) => {
      const [code, value, action] = reply as [number, unknown, unknown?];
      if (code === 1) return { renewed: true, expiresAtMs: Number(value) } as const;
      if (code === 2) {
        const cancel = text(action) === "rollback" ? ("rollback" as const) : ("interrupt" as const);
        return { renewed: true, expiresAtMs: Number(value), cancel } as const;
      }
      return { renewed: false, ...holderOf(value, keys.holders) } as const;
    },
  }),
  /** True when the entry now expires at the current server time. */
  recoveryAbandonLease: script<[member: string, token: string, owner: string]>()({ keys: LEASE_KEYS, decode: isOne }),
  recoveryPruneLease: script<[member: string, expectedToken: string]>()({
    keys: RUN_LEASE_KEYS,
    decode: (reply) => {
      const code = Number(reply);
      return code === 1 ? "removed" : code === -1 ? "renewed" : ("changed" as "removed" | "renewed" | "changed");
    },
  }),
  /** True when the caller's lease was released. */
  recoveryEnqueueLease: script<
    [
      member: string,
      owner: string,
      leaseMs: number,
      runId: string,
      waiterId: string,
      staleMs: number,
      mode: "wait" | "leave",
    ]
  >()({
    keys: [...LEASE_KEYS, "counter", "runs", "queue", "waiters", "outbox?"],
    decode: (reply, keys) => {
      const [code, a, b, c] = reply as [number, unknown?, unknown?, unknown?];
      if (code === 1) {
        return { acquired: true, token: Number(a), expiresAtMs: Number(b), ...replacedOf(c, keys.holders) } as const;
      }
      if (code === -1) {
        return {
          acquired: false,
          queued: true,
          position: Number(c),
          expiresAtMs: Number(b),
          ...holderOf(a, keys.holders),
        } as const;
      }
      return { acquired: false, queued: false } as const;
    },
  }),
  recoveryReleaseLease: script<[member: string, token: string]>()({
    keys: [...RUN_LEASE_KEYS, "counter", "queue", "waiters"],
    decode: isOne,
  }),
  recoveryCancelRun: script<[member: string, action: "interrupt" | "rollback", expectedToken: string]>()({
    keys: RUN_LEASE_KEYS,
    decode: (reply) => {
      const [code, token, runId] = reply as [number, unknown?, unknown?];
      if (code === 1 || code === 2) {
        const outcome = code === 1 ? ("requested" as const) : ("stopped-crashed" as const);
        return { outcome, token: Number(token), runId: text(runId) };
      }
      return { outcome: code === -1 ? ("resuming" as const) : ("not-running" as const) };
    },
  }),
  recoveryExpiredLeases: script<[limit: number]>()({
    keys: LEASE_KEYS,
    decode: (reply, keys) => {
      const flat = reply as unknown[];
      const leases: ExpiredLease[] = [];
      for (let i = 1; i + 2 < flat.length; i += 3) {
        const member = String(flat[i]);
        const holderText = String(flat[i + 2] ?? "");
        const run = parseRunLeaseMember(member);
        if (!run) throw new CorruptDataError(keys.index, "an index member is not a run member (<thread>:<namespace>)");
        if (holderText === "") continue; // both are written by one script; a missing holder is not a lease
        leases.push({
          member,
          ...run,
          expiredAtMs: Number(flat[i + 1]),
          holder: parseHolder(holderText, keys.holders),
        });
      }
      return { nowMs: Number(flat[0]), leases };
    },
  }),
} satisfies Record<LuaFileName, ScriptSpec<readonly string[], never, unknown>>;

function replacedOf(value: unknown, key: string) {
  const replaced = parseOptionalHolder(value, key);
  return replaced ? { replaced } : {};
}

/**
 * storeGet's reply as a record. `reveal` turns stored value text into JSON when the store encrypts values
 * (store/value-cipher.ts); the store's get call passes it, the catalogue's own decoder does not.
 */
export function decodeStoreGet(
  reply: unknown,
  itemsKey: string,
  key: string,
  reveal?: ValueReader,
): StoredRecord | null {
  const [, raw] = reply as [Buffer, Buffer?];
  return raw === undefined || raw === null ? null : decodeRecord(raw, itemsKey, key, reveal);
}

/** storeReadNamespace's reply: live records in insertion order; `revealFor(key)` as decodeStoreGet's `reveal`. */
export function decodeStoreReadNamespace(
  reply: unknown,
  itemsKey: string,
  revealFor?: (key: string) => ValueReader,
): { live: number; selected: number; records: { key: string; record: StoredRecord; vectors: Buffer | null }[] } {
  const [nowRaw, liveRaw, keysRaw = [], itemsRaw = [], vectorsRaw = [], selectedRaw = 0] = reply as [
    Buffer,
    number,
    Buffer[]?,
    Buffer[]?,
    Buffer[]?,
    number?,
  ];
  const now = Number(text(nowRaw));
  const items = pairs(itemsRaw);
  const vectors = pairs(vectorsRaw);
  const records: { key: string; record: StoredRecord; vectors: Buffer | null }[] = [];
  for (const keyBuf of keysRaw) {
    const key = keyBuf.toString("utf8");
    const raw = items.get(key);
    if (raw === undefined) continue;
    const record = decodeRecord(raw, itemsKey, key, revealFor?.(key));
    if (record.expireAt !== null && record.expireAt <= now) continue;
    records.push({ key, record, vectors: vectors.get(key) ?? null });
  }
  return { live: Number(liveRaw), selected: Number(selectedRaw), records };
}

function pairs(flat: readonly Buffer[]): Map<string, Buffer> {
  const map = new Map<string, Buffer>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set((flat[i] as Buffer).toString("utf8"), flat[i + 1] as Buffer);
  return map;
}

type Catalogue = typeof SCRIPTS;
export type ScriptName = keyof Catalogue;
/** The named keys a call of script N passes. */
export type ScriptKeys<N extends ScriptName> = Parameters<Catalogue[N]["decode"]>[1];
/** The ARGV tuple of script N. */
export type ScriptArgs<N extends ScriptName> = Parameters<Catalogue[N]["decode"]>[2];
/** The decoded reply of script N. */
export type ReplyOf<N extends ScriptName> = ReturnType<Catalogue[N]["decode"]>;

/**
 * The offline journal: one append-only file per component under `journalDir`, holding the writes a process could not
 * send to Redis. Every record is framed and checksummed:
 *
 *   u32 payload length (big-endian) | u32 CRC-32 of the payload | payload
 *   payload = u8 format (1) | u32 header length | header (JSON: seq, atMs, and what the owner put there) | body bytes
 *
 * An append resolves only once its bytes are on disk (fdatasync). Appends that arrive while a sync is running wait
 * for the next one and share it (group commit: one fsync per batch of concurrent callers). The journal is bounded by
 * `maxBytes` and by `maxAgeMs` (the age of its oldest record): an append beyond either bound is refused with
 * JournalFullError and nothing is written, so nothing is lost without the caller knowing.
 *
 * Opening reads the file back. At the first record whose length runs past the end of the file or whose checksum does
 * not match, the intact prefix is kept and the rest is moved aside to `<file>.corrupt-<time>` (never applied) and
 * reported as JournalCorruptError. A lock file holding the owner's pid keeps two live processes off one journal; a
 * lock left by a process that is gone is taken over (that is how a crashed process's journal is picked up).
 */
import { closeSync, constants, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { type FileHandle, mkdir, open, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { JournalCorruptError, JournalFullError, JournalLockedError, OfflineJournalError } from "../errors.js";

const FORMAT = 1;
const FRAME_BYTES = 8;

/** What the owner stores in a record's header besides seq and atMs (JSON-safe values only). */
export type RecordHeader = Record<string, unknown>;

export interface JournalRecord {
  /** Position in the journal, from 1; appends get increasing numbers, also across a reopen. */
  readonly seq: number;
  /** When the record was appended (ms since the epoch). */
  readonly atMs: number;
  readonly header: RecordHeader;
  readonly body: Buffer;
  /** Bytes the record takes in the file. */
  readonly bytes: number;
}

export interface JournalOptions {
  readonly dir: string;
  /** File name stem: `<name>.journal` and `<name>.lock` (one journal per component, e.g. "saver"). */
  readonly name: string;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
}

export interface OpenedJournal {
  readonly journal: Journal;
  /** The intact records found in the file, in order. */
  readonly records: JournalRecord[];
  /** Set when the file had a corrupt or truncated tail (moved aside). */
  readonly corruption: JournalCorruptError | undefined;
}

/** Encodes one record (frame + payload). */
export function encodeRecord(header: RecordHeader, body: Buffer): Buffer {
  const headerBytes = Buffer.from(JSON.stringify(header), "utf8");
  const payload = Buffer.allocUnsafe(1 + 4 + headerBytes.length + body.length);
  payload.writeUInt8(FORMAT, 0);
  payload.writeUInt32BE(headerBytes.length, 1);
  headerBytes.copy(payload, 5);
  body.copy(payload, 5 + headerBytes.length);
  const frame = Buffer.allocUnsafe(FRAME_BYTES);
  frame.writeUInt32BE(payload.length, 0);
  frame.writeUInt32BE(crc32(payload), 4);
  return Buffer.concat([frame, payload]);
}

interface Parsed {
  readonly records: JournalRecord[];
  /** Bytes of the intact prefix. */
  readonly intactBytes: number;
  /** Why parsing stopped before the end of the file. */
  readonly problem: string | undefined;
}

/** Reads records from `bytes` up to the first one that is truncated or fails its checksum. */
export function parseRecords(bytes: Buffer): Parsed {
  const records: JournalRecord[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < FRAME_BYTES) {
      return { records, intactBytes: offset, problem: `a truncated record frame at byte ${offset}` };
    }
    const length = bytes.readUInt32BE(offset);
    const checksum = bytes.readUInt32BE(offset + 4);
    const end = offset + FRAME_BYTES + length;
    if (end > bytes.length) {
      return {
        records,
        intactBytes: offset,
        problem: `a record at byte ${offset} claims ${length} bytes but only ${bytes.length - offset - FRAME_BYTES} follow`,
      };
    }
    const payload = bytes.subarray(offset + FRAME_BYTES, end);
    if (crc32(payload) !== checksum) {
      return { records, intactBytes: offset, problem: `the checksum of the record at byte ${offset} does not match` };
    }
    const record = decodePayload(payload, end - offset);
    if (record === undefined) {
      return { records, intactBytes: offset, problem: `the record at byte ${offset} is not in a known format` };
    }
    records.push(record);
    offset = end;
  }
  return { records, intactBytes: offset, problem: undefined };
}

function decodePayload(payload: Buffer, bytes: number): JournalRecord | undefined {
  if (payload.length < 5 || payload.readUInt8(0) !== FORMAT) return undefined;
  const headerLength = payload.readUInt32BE(1);
  if (5 + headerLength > payload.length) return undefined;
  try {
    const header = JSON.parse(payload.subarray(5, 5 + headerLength).toString("utf8")) as RecordHeader;
    const { seq, atMs } = header;
    if (typeof seq !== "number" || typeof atMs !== "number") return undefined;
    return { seq, atMs, header, body: Buffer.from(payload.subarray(5 + headerLength)), bytes };
  } catch {
    return undefined;
  }
}

interface Job {
  readonly kind: "append" | "clear";
  readonly bytes?: Buffer;
  resolve(): void;
  reject(error: unknown): void;
}

export class Journal {
  readonly file: string;
  readonly #lockFile: string;
  readonly #options: JournalOptions;
  #handle: FileHandle;
  /** Bytes in the file, plus those of appends accepted and not yet written. */
  #bytes: number;
  /** Bytes on disk. */
  #fileBytes: number;
  /**
   * When the oldest record was written, on performance.now()'s monotonic clock (a step of the wall clock must not
   * make the journal full, nor let it keep records past maxAgeMs); records of an earlier process are placed on it
   * once, by their wall-clock age when the journal opens.
   */
  #oldestAt: number | undefined;
  #nextSeq: number;
  readonly #jobs: Job[] = [];
  #flushing = false;
  #appendsInFlight = 0;
  #syncs = 0;
  #closed = false;

  private constructor(options: JournalOptions, file: string, lockFile: string, handle: FileHandle, bytes: number) {
    this.#options = options;
    this.file = file;
    this.#lockFile = lockFile;
    this.#handle = handle;
    this.#bytes = bytes;
    this.#fileBytes = bytes;
    this.#nextSeq = 1;
  }

  /** Opens (or creates) the journal `<dir>/<name>.journal`, taking its lock; see the module comment. */
  static async open(options: JournalOptions): Promise<OpenedJournal> {
    await mkdir(options.dir, { recursive: true });
    const file = join(options.dir, `${options.name}.journal`);
    const lockFile = join(options.dir, `${options.name}.lock`);
    takeLock(lockFile, file);
    try {
      const bytes = await readFile(file).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return Buffer.alloc(0);
        throw error;
      });
      const parsed = parseRecords(bytes);
      let corruption: JournalCorruptError | undefined;
      if (parsed.problem !== undefined) {
        const aside = `${file}.corrupt-${Date.now()}`;
        const handle = await open(aside, "wx");
        try {
          await handle.writeFile(bytes.subarray(parsed.intactBytes));
          await handle.sync();
        } finally {
          await handle.close();
        }
        corruption = new JournalCorruptError(file, parsed.intactBytes, bytes.length - parsed.intactBytes, aside, {
          problem: parsed.problem,
          intactRecords: parsed.records.length,
        });
      }
      const handle = await open(file, "a+");
      if (parsed.problem !== undefined) {
        await handle.truncate(parsed.intactBytes);
        await handle.sync();
      }
      await syncDirectory(options.dir);
      const journal = new Journal(options, file, lockFile, handle, parsed.intactBytes);
      journal.#nextSeq = (parsed.records.at(-1)?.seq ?? 0) + 1;
      const oldest = parsed.records[0];
      journal.#oldestAt = oldest && performance.now() - Math.max(0, Date.now() - oldest.atMs);
      return { journal, records: parsed.records, corruption };
    } catch (error) {
      releaseLock(lockFile);
      throw error;
    }
  }

  /** Bytes the journal holds (and has accepted to write). */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Appends a record and resolves once it is on disk. Throws JournalFullError (nothing written) when it would pass
   * maxBytes, or when the oldest record is older than maxAgeMs.
   */
  append(header: RecordHeader, body: Buffer): Promise<JournalRecord> {
    if (this.#closed) return Promise.reject(new OfflineJournalError(`The journal ${this.file} is closed`));
    const atMs = Date.now();
    const now = performance.now();
    const { maxBytes, maxAgeMs } = this.#options;
    if (this.#oldestAt !== undefined && now - this.#oldestAt > maxAgeMs) {
      return Promise.reject(
        new JournalFullError(
          this.file,
          "age",
          `its oldest record is ${Math.round(now - this.#oldestAt)} ms old (maxAgeMs ${maxAgeMs})`,
        ),
      );
    }
    const seq = this.#nextSeq;
    const bytes = encodeRecord({ ...header, seq, atMs }, body);
    if (this.#bytes + bytes.length > maxBytes) {
      return Promise.reject(
        new JournalFullError(
          this.file,
          "bytes",
          `a record of ${bytes.length} bytes would take it past maxBytes (${maxBytes}; ${this.#bytes} in use)`,
        ),
      );
    }
    this.#nextSeq += 1;
    this.#bytes += bytes.length;
    this.#oldestAt ??= now;
    const record: JournalRecord = { seq, atMs, header: { ...header, seq, atMs }, body, bytes: bytes.length };
    this.#appendsInFlight += 1;
    return new Promise<void>((resolve, reject) => {
      this.#jobs.push({ kind: "append", bytes, resolve, reject });
      void this.#flush();
    }).then(
      () => {
        this.#appendsInFlight -= 1;
        return record;
      },
      (error: unknown) => {
        this.#appendsInFlight -= 1;
        throw error;
      },
    );
  }

  /** Empties the journal (every record was replayed); ordered after the appends already accepted. */
  clear(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#jobs.push({ kind: "clear", resolve, reject });
      void this.#flush();
    });
  }

  /** Whether appends are accepted but not yet on disk. */
  get busy(): boolean {
    return this.#appendsInFlight > 0;
  }

  /** Syncs made for appends so far (one per batch of concurrent appends). */
  get syncCount(): number {
    return this.#syncs;
  }

  async #flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (this.#jobs.length > 0) {
        const first = this.#jobs[0] as Job;
        if (first.kind === "clear") {
          this.#jobs.shift();
          await this.#run([first], async () => {
            await this.#handle.truncate(0);
            await this.#handle.datasync();
            this.#fileBytes = 0;
            this.#bytes = this.#jobs.reduce((sum, job) => sum + (job.bytes?.length ?? 0), 0);
            this.#oldestAt = this.#jobs.length > 0 ? performance.now() : undefined;
          });
          continue;
        }
        // every append queued up to the next clear: one write, one sync
        const stop = this.#jobs.findIndex((job) => job.kind !== "append");
        const batch = this.#jobs.splice(0, stop === -1 ? this.#jobs.length : stop);
        const before = this.#fileBytes;
        await this.#run(batch, async () => {
          try {
            await this.#handle.writev(batch.map((job) => job.bytes as Buffer));
            await this.#handle.datasync();
            this.#syncs += 1;
            this.#fileBytes = before + batch.reduce((sum, job) => sum + (job.bytes?.length ?? 0), 0);
          } catch (error) {
            // a partial batch must not stay: later records would be read as corruption
            this.#bytes -= batch.reduce((sum, job) => sum + (job.bytes?.length ?? 0), 0);
            await this.#handle.truncate(before).catch(() => undefined);
            throw error;
          }
        });
      }
    } finally {
      this.#flushing = false;
    }
  }

  async #run(batch: Job[], work: () => Promise<void>): Promise<void> {
    try {
      await work();
      for (const job of batch) job.resolve();
    } catch (error) {
      const failure = new OfflineJournalError(
        `Writing the journal ${this.file} failed (${(error as Error).message}); the records were not stored`,
        { cause: error },
      );
      for (const job of batch) job.reject(failure);
    }
  }

  /** Waits for the appends in flight, closes the file and releases the lock. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#flushing || this.#jobs.length > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await this.#handle.close();
    releaseLock(this.#lockFile);
  }
}

/** Takes `<name>.lock` for this process; JournalLockedError when a live process holds it. */
function takeLock(lockFile: string, journalFile: string): void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(lockFile, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = Number(readLockPid(lockFile));
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
      throw new JournalLockedError(journalFile, holder);
    }
    if (holder === process.pid) throw new JournalLockedError(journalFile, holder);
    // left by a process that is gone: take it over
    try {
      unlinkSync(lockFile);
    } catch {
      // another process raced us to it; try again
    }
  }
  throw new JournalLockedError(journalFile, Number(readLockPid(lockFile)) || 0);
}

function readLockPid(lockFile: string): string {
  try {
    return readFileSync(lockFile, "utf8").trim();
  } catch {
    return "";
  }
}

function releaseLock(lockFile: string): void {
  if (readLockPid(lockFile) !== String(process.pid)) return;
  try {
    unlinkSync(lockFile);
  } catch {
    // already gone
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** fsync of the directory, so a new file (or a truncation) survives a crash of the machine. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } catch {
    // some file systems refuse fsync on a directory; the file's own sync still holds
  } finally {
    await handle.close();
  }
}

/** The size of the journal file on disk (tests, status). */
export async function journalFileBytes(file: string): Promise<number> {
  return (await stat(file).catch(() => ({ size: 0 }))).size;
}

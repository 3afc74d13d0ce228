/**
 * The offline journal file on its own: records survive a reopen in order, concurrent appends share a sync, the size
 * and age bounds refuse writes with JournalFullError, a truncated or bit-flipped tail is set aside (never returned)
 * and reported, and a live process's lock keeps another opener out while a dead one's is taken over.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JournalCorruptError, JournalFullError, JournalLockedError } from "../../src/errors.js";
import { encodeRecord, Journal, parseRecords } from "../../src/offline/journal.js";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "lgr-journal-"));
  dirs.push(dir);
  return dir;
}

const options = (dir: string) => ({ dir, name: "saver", maxBytes: 1024 * 1024, maxAgeMs: 60_000 });

async function writeRecords(dir: string, count: number): Promise<string> {
  const { journal } = await Journal.open(options(dir));
  for (let i = 0; i < count; i++) await journal.append({ n: i }, Buffer.from(`body-${i}`));
  await journal.close();
  return journal.file;
}

describe("offline journal", () => {
  it("returns every appended record in order after a reopen, with seq continuing", async () => {
    const dir = newDir();
    await writeRecords(dir, 5);
    const { journal, records, corruption } = await Journal.open(options(dir));
    expect(corruption).toBeUndefined();
    expect(records.map((r) => [r.seq, r.header.n, r.body.toString()])).toEqual(
      [0, 1, 2, 3, 4].map((i) => [i + 1, i, `body-${i}`]),
    );
    const next = await journal.append({ n: 5 }, Buffer.alloc(0));
    expect(next.seq).toBe(6);
    await journal.close();
  });

  it("syncs once per batch of concurrent appends (group commit)", async () => {
    const dir = newDir();
    const { journal } = await Journal.open(options(dir));
    await Promise.all(Array.from({ length: 50 }, (_, i) => journal.append({ n: i }, Buffer.from("x"))));
    // the first append starts a sync on its own; the other 49 arrive while it runs and share at most a few more
    expect(journal.syncCount).toBeLessThan(50);
    expect(journal.syncCount).toBeGreaterThanOrEqual(1);
    await journal.close();
    const { journal: again, records } = await Journal.open(options(dir));
    expect(records.map((r) => r.header.n)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    await again.close();
  });

  it("refuses a write past maxBytes with JournalFullError and stores nothing of it", async () => {
    const dir = newDir();
    const { journal } = await Journal.open({ ...options(dir), maxBytes: 300 });
    await journal.append({}, Buffer.alloc(100));
    const before = statSync(journal.file).size;
    await expect(journal.append({}, Buffer.alloc(300))).rejects.toMatchObject({
      name: "JournalFullError",
      bound: "bytes",
    });
    expect(statSync(journal.file).size).toBe(before);
    await journal.close();
  });

  it("refuses writes once the oldest record is older than maxAgeMs", async () => {
    const dir = newDir();
    const { journal } = await Journal.open({ ...options(dir), maxAgeMs: 1 });
    await journal.append({}, Buffer.from("a"));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const error = await journal.append({}, Buffer.from("b")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JournalFullError);
    expect((error as JournalFullError).bound).toBe("age");
    // once replayed (cleared) it accepts writes again
    await journal.clear();
    await expect(journal.append({}, Buffer.from("c"))).resolves.toMatchObject({ seq: 2 });
    await journal.close();
  });

  it("times the age bound on a monotonic clock; records of an earlier process by their wall-clock age", async () => {
    const dir = newDir();
    const realNow = Date.now.bind(Date);
    try {
      const { journal } = await Journal.open(options(dir));
      await journal.append({}, Buffer.from("a"));
      // An NTP correction of ten minutes forward: the record is still moments old, not past maxAgeMs (60 s).
      vi.spyOn(Date, "now").mockImplementation(() => realNow() + 600_000);
      await expect(journal.append({}, Buffer.from("b"))).resolves.toMatchObject({ seq: 2 });
      await journal.close();

      // Opened again (as a restarted process would) two minutes of wall clock after the first record was written.
      vi.spyOn(Date, "now").mockImplementation(() => realNow() + 120_000);
      const reopened = await Journal.open(options(dir));
      expect(reopened.records.map((r) => r.seq)).toEqual([1, 2]);
      const error = await reopened.journal.append({}, Buffer.from("c")).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JournalFullError);
      expect((error as JournalFullError).bound).toBe("age");
      await reopened.journal.close();
    } finally {
      vi.restoreAllMocks();
    }
  });

  it("keeps the intact prefix of a truncated journal and moves the partial record aside", async () => {
    const dir = newDir();
    const file = await writeRecords(dir, 4);
    const whole = readFileSync(file);
    writeFileSync(file, whole.subarray(0, whole.length - 3));
    const { journal, records, corruption } = await Journal.open(options(dir));
    expect(records.map((r) => r.header.n)).toEqual([0, 1, 2]);
    expect(corruption).toBeInstanceOf(JournalCorruptError);
    expect(corruption?.intactRecords).toBe(3);
    expect(corruption?.message).toMatch(/claims \d+ bytes/);
    const aside = readFileSync(corruption?.asideFile as string);
    expect(aside.length).toBe(corruption?.bytesSetAside);
    expect(statSync(file).size).toBe(corruption?.offset);
    // new records go after the intact prefix and read back
    await journal.append({ n: 9 }, Buffer.from("after"));
    await journal.close();
    const { journal: again, records: reread, corruption: none } = await Journal.open(options(dir));
    expect(none).toBeUndefined();
    expect(reread.map((r) => r.header.n)).toEqual([0, 1, 2, 9]);
    await again.close();
  });

  it("stops at a flipped byte: the records before it are kept, that one and all after are set aside", async () => {
    const dir = newDir();
    const file = await writeRecords(dir, 5);
    const bytes = readFileSync(file);
    const offsets: number[] = [];
    for (let offset = 0; offset < bytes.length; ) {
      offsets.push(offset);
      offset += 8 + bytes.readUInt32BE(offset);
    }
    const third = offsets[2] as number;
    bytes[third + 12] = (bytes[third + 12] as number) ^ 0x10;
    writeFileSync(file, bytes);
    const { journal, records, corruption } = await Journal.open(options(dir));
    expect(records.map((r) => r.header.n)).toEqual([0, 1]);
    expect(corruption?.problem).toMatch(/checksum/);
    expect(corruption?.offset).toBe(third);
    expect(parseRecords(readFileSync(corruption?.asideFile as string)).problem).toMatch(/checksum/);
    await journal.close();
  });

  it("frames every record with its length and CRC-32", () => {
    const record = encodeRecord({ seq: 1, atMs: 1 }, Buffer.from("abc"));
    expect(record.readUInt32BE(0)).toBe(record.length - 8);
    expect(parseRecords(record).records).toHaveLength(1);
  });

  it("keeps a second opener out while the first holds the journal, and takes over a dead holder's lock", async () => {
    const dir = newDir();
    const { journal } = await Journal.open(options(dir));
    await expect(Journal.open(options(dir))).rejects.toBeInstanceOf(JournalLockedError);
    await journal.close();
    // a lock left by a process that has exited
    const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]).stdout.toString();
    writeFileSync(join(dir, "saver.lock"), gone);
    const { journal: taken } = await Journal.open(options(dir));
    expect(readFileSync(join(dir, "saver.lock"), "utf8")).toBe(String(process.pid));
    await taken.close();
    expect(readdirSync(dir)).not.toContain("saver.lock");
  });
});

/**
 * The saver's Lua scripts on their own: what each stores, the TTL each sets, and each result.
 */

import { readFileSync } from "node:fs";
import { isCluster, type RedisClient } from "../../src/client.js";
import {
  saverRunThreadsKey,
  saverThreadIndexKey,
  saverThreadKeys,
  threadBucket,
  threadRegistryKeys,
} from "../../src/keys.js";
import { blobField, checkpointField, escapePart, FrameFormat, frame } from "../../src/saver/codec.js";
import { packWrite, splitWriteBundle } from "../../src/saver/write-frame.js";
import { newRedis, targets, testPrefix } from "../helpers/redis.js";
import { runRawScript } from "../helpers/scripts.js";
import { indexMembers } from "./saver-helpers.js";

const runRawBuffer = (client: RedisClient, name: "saverRead", keys: readonly string[], args: readonly unknown[]) =>
  runRawScript(client, name, keys, args, true);

/** The bundle limit of include pendingWrites. */
const BUNDLE_BYTES = Number(
  /PENDING_WRITES_BUNDLE_BYTES = (\d+)/.exec(readFileSync("src/lua/include/pendingWrites.lua", "utf8"))?.[1],
);

/** A framed pending write as putWrites sends it: [taskId, channel, type, bytes, taskPath, idx]. */
const pendingWrite = (taskId: string, idx: number, value = "v", format: FrameFormat = FrameFormat.PLAIN) =>
  frame([taskId, "ch", "json", value, "", String(idx)], format);

/** A checkpoint's stored bundle: each framed write after its 4-byte big-endian length. */
function bundle(...writes: Buffer[]): Buffer {
  return Buffer.concat(
    writes.flatMap((write) => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(write.length);
      return [length, write];
    }),
  );
}

/** The parts of a frame (format byte, then each part's 4-byte big-endian length and bytes). */
function frameParts(framed: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  for (let at = 1; at + 4 <= framed.length; ) {
    const length = framed.readUInt32BE(at);
    parts.push(framed.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return parts;
}

/** saverPutWrites' triples for (mode, framed write) pairs of checkpoint field: each write's overflow field first. */
function triples(field: string, pairs: readonly (string | Buffer)[]): (string | Buffer)[] {
  const out: (string | Buffer)[] = [];
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const write = pairs[i + 1] as Buffer;
    const parts = frameParts(write);
    out.push(
      `${field}\0${escapePart(String(parts[0]))}\0${String(parts[parts.length - 1])}`,
      pairs[i] as string,
      write,
    );
  }
  return out;
}

describe.each(targets)("saver scripts ($name)", ({ connect }) => {
  let client: RedisClient;
  beforeAll(() => {
    client = connect();
  });

  function putArgs(
    ns: string,
    id: string,
    parent: string,
    ttlMs: number,
    blobs: [string, Buffer][],
    {
      version = 1,
      fence = ["", 0],
      run = "",
      retention = "",
      upgrade = "",
    }: { version?: number; fence?: [string, number]; run?: string; retention?: string; upgrade?: string } = {},
  ) {
    return [
      ttlMs,
      checkpointField(ns, id),
      frame([`${parent}\nch\u0000${version}`, "json", `{"id":"${id}"}`, "json", "{}"]),
      "t",
      60_000,
      ...fence,
      run,
      retention,
      upgrade,
      ...blobs.flat(),
    ];
  }

  it("saverPut stores record (refs first), indexes and only new blobs; no TTL when ttlMs is 0", async () => {
    const keys = saverThreadKeys(testPrefix("sp"), "t");
    const blob = frame(["json", "1"]);
    const field = blobField("", "ch", 1);
    expect(await runRawScript(client, "saverPut", keys.all, putArgs("", "a", "", 0, [[field, blob]]))).toBe(1);
    expect(
      await runRawScript(client, "saverPut", keys.all, putArgs("", "b", "a", 0, [[field, frame(["json", "2"])]])),
    ).toBe(0);
    expect(await client.hgetBuffer(keys.blobs, field)).toEqual(blob);
    expect(await client.hlen(keys.checkpoints)).toBe(2);
    expect(await client.hgetBuffer(keys.checkpoints, checkpointField("", "b"))).toEqual(
      frame(["a\nch\u00001", "json", '{"id":"b"}', "json", "{}"]),
    );
    expect(await indexMembers(client, keys.byNamespace)).toEqual([checkpointField("", "a"), checkpointField("", "b")]);
    expect(await client.exists(keys.byId)).toBe(0);
    expect(await client.pttl(keys.checkpoints)).toBe(-1);
  });

  it("saverPut asked to upgrade deletes the byId index an earlier release wrote; reads never need it", async () => {
    const keys = saverThreadKeys(testPrefix("legacyid"), "t");
    await client.zadd(keys.byId, 0, "old\u0000");
    // Without the flag (a thread this process already converted) the put leaves other keys alone.
    await runRawScript(client, "saverPut", keys.all, putArgs("", "a", "", 0, []));
    expect(await client.exists(keys.byId)).toBe(1);
    await runRawScript(client, "saverPut", keys.all, putArgs("", "b", "a", 0, [], { upgrade: "u" }));
    expect(await client.exists(keys.byId)).toBe(0);
    const [hasCheckpoints] = (await runRawBuffer(client, "saverRead", keys.all, ["id", "+", "-", 10, 0])) as [number];
    expect(hasCheckpoints).toBe(1);
  });

  it("saverRead across namespaces merges every namespace newest first, pages and finds one id anywhere", async () => {
    const keys = saverThreadKeys(testPrefix("readall"), "t");
    // Namespaces whose names sort around each other, and one id ("c") in two namespaces.
    const placed: [string, string][] = [
      ["", "a"],
      ["sub", "b"],
      ["", "c"],
      ["sub", "c"],
      ["sub\u0001x", "d"],
      ["", "e"],
    ];
    for (const [ns, id] of placed) await runRawScript(client, "saverPut", keys.all, putArgs(ns, id, "", 0, []));
    const read = async (max: string, min: string, limit: number) => {
      const [hasCheckpoints, entries] = (await runRawBuffer(client, "saverRead", keys.all, [
        "id",
        max,
        min,
        limit,
        0,
      ])) as [number, [Buffer][]];
      expect(hasCheckpoints).toBe(1);
      return entries.map(([field]) => field.toString("utf8"));
    };
    const ordered = [
      checkpointField("", "e"),
      checkpointField("sub\u0001x", "d"),
      checkpointField("sub", "c"),
      checkpointField("", "c"),
      checkpointField("sub", "b"),
      checkpointField("", "a"),
    ];
    expect(await read("+", "-", 10)).toEqual(ordered);
    expect(await read("+", "-", 2)).toEqual(ordered.slice(0, 2));
    // Below id "c" of namespace "sub" (`c\0sub`): the root's c, then b and a.
    expect(await read(`(c\u0000sub`, "-", 10)).toEqual(ordered.slice(3));
    // Before id "c" (every namespace): b, a.
    expect(await read(`(c\u0000`, "-", 10)).toEqual(ordered.slice(4));
    // Id "c" in whichever namespaces hold it.
    expect(await read(`(c\u0001`, `[c\u0000`, 10)).toEqual(ordered.slice(2, 4));
  });

  it("saverPut and saverPutWrites set the TTL on every existing key of the thread", async () => {
    const keys = saverThreadKeys(testPrefix("st"), "t");
    await runRawScript(client, "saverRaiseRunFence", [keys.runFences], ["lease", 1, 0]);
    const blobs: [string, Buffer][] = [[blobField("", "ch", 1), frame([])]];
    await runRawScript(client, "saverPut", keys.all, putArgs("", "a", "", 60_000, blobs, { run: "run" }));
    await runRawScript(client, "saverPutWrites", keys.all, [
      60_000,
      "t",
      60_000,
      "",
      0,
      checkpointField("", "a"),
      ...triples(checkpointField("", "a"), ["0", pendingWrite("task", 0)]),
    ]);
    // Every key but byId, which only earlier releases wrote, and writesIndex: a small write goes into the bundle.
    expect(await client.exists(keys.writesIndex)).toBe(0);
    for (const key of keys.all.filter((k) => k !== keys.byId && k !== keys.writesIndex)) {
      const ttl = await client.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
  });

  it("saverPutWrites keeps one bundle per checkpoint: mode 0 inserts if absent, mode 1 replaces", async () => {
    const keys = saverThreadKeys(testPrefix("sw"), "t");
    const field = checkpointField("", "a");
    const put = (...pairs: (string | Buffer)[]) =>
      runRawScript(client, "saverPutWrites", keys.all, [0, "t", 60_000, "", 0, field, ...triples(field, pairs)]);
    const stored = async () => client.hgetBuffer(keys.writes, field);
    expect(await put("0", pendingWrite("task", 0, "first"), "1", pendingWrite("task", -1, "first"))).toBe(2);
    // A retried task: its regular write stays as first stored, its special write is replaced in place.
    expect(await put("0", pendingWrite("task", 0, "second"), "1", pendingWrite("task", -1, "second"))).toBe(1);
    expect(await stored()).toEqual(bundle(pendingWrite("task", 0, "first"), pendingWrite("task", -1, "second")));
    // Nothing new: nothing stored, the bundle untouched.
    expect(await put("0", pendingWrite("task", 0, "third"))).toBe(0);
    // Other tasks (and another idx of the same task) go after the stored writes; one hash field for all of them.
    expect(
      await put("0", pendingWrite("other", 0), "0", pendingWrite("task", 1), "0", pendingWrite("other", 0, "dup")),
    ).toBe(2);
    // (taskId, idx) is the identity whatever the value's frame format: a DEFLATED write replaces a PLAIN one.
    const deflated = pendingWrite("task", -1, "zipped", FrameFormat.DEFLATED);
    expect(await put("1", deflated)).toBe(1);
    expect(await stored()).toEqual(
      bundle(pendingWrite("task", 0, "first"), deflated, pendingWrite("other", 0), pendingWrite("task", 1)),
    );
    expect(await put("0", pendingWrite("task", -1, "plain"))).toBe(0);
    expect(await client.hlen(keys.writes)).toBe(1);
    expect(await client.exists(keys.writesIndex)).toBe(0);
  });

  it("saverPutWrites knows a retried task by its escaped overflow field, whatever bytes its task id holds", async () => {
    const keys = saverThreadKeys(testPrefix("swe"), "t");
    const field = checkpointField("", "a");
    const put = (...pairs: (string | Buffer)[]) =>
      runRawScript(client, "saverPutWrites", keys.all, [0, "t", 60_000, "", 0, field, ...triples(field, pairs)]);
    const task = "t%41\0\n\u00e9";
    expect(await put("0", pendingWrite(task, 0, "first"), "1", pendingWrite(task, -1, "first"))).toBe(2);
    expect(await put("0", pendingWrite(task, 0, "second"), "1", pendingWrite(task, -1, "second"))).toBe(1);
    // A task whose id is the first one's escaped id is another task.
    const other = escapePart(task);
    expect(await put("0", pendingWrite(other, 0, "other"), "1", pendingWrite(other, -1, "other"))).toBe(2);
    expect(await client.hgetBuffer(keys.writes, field)).toEqual(
      bundle(
        pendingWrite(task, 0, "first"),
        pendingWrite(task, -1, "second"),
        pendingWrite(other, 0, "other"),
        pendingWrite(other, -1, "other"),
      ),
    );
  });

  it("saverPutWrites fills the bundle up to its limit, then gives each write its own indexed field", async () => {
    const keys = saverThreadKeys(testPrefix("swm"), "t");
    const field = checkpointField("ns", "a");
    const put = (...pairs: (string | Buffer)[]) =>
      runRawScript(client, "saverPutWrites", keys.all, [0, "t", 60_000, "", 0, field, ...triples(field, pairs)]);
    const tasks = Array.from({ length: 40 }, (_, i) => `task-${i}`);
    const first = (task: string, idx: number) => pendingWrite(task, idx, `${task}/${idx}`);
    for (const task of tasks) {
      expect(await put(...[0, 1, 2].flatMap((idx) => ["0", first(task, idx)]))).toBe(3);
    }
    // 120 writes of about 50 bytes: the first ones in the bundle, within the limit, the rest each in its own field.
    const stored = await client.hgetBuffer(keys.writes, field);
    expect(stored?.length).toBeLessThanOrEqual(BUNDLE_BYTES);
    const inBundle = splitWriteBundle(stored as Buffer);
    expect(stored?.length).toBeGreaterThan(BUNDLE_BYTES - 4 - (first("task-10", 0).length + 4));
    const overflowFields = await client.zrange(keys.writesIndex, "0", "-1");
    expect(inBundle.length + overflowFields.length).toBe(120);
    expect(await client.hlen(keys.writes)).toBe(1 + overflowFields.length);
    const all = tasks.flatMap((task) => [0, 1, 2].map((idx) => first(task, idx)));
    expect(inBundle).toEqual(all.slice(0, inBundle.length));
    for (const [i, write] of all.slice(inBundle.length).entries()) {
      expect((await client.hgetBuffer(keys.writes, overflowFields[i] as string))?.equals(write)).toBe(true);
    }
    // Every task retried (mode 0), in both forms: nothing changes.
    const before = await client.hgetallBuffer(keys.writes);
    for (const task of tasks) {
      expect(await put(...[0, 1, 2].flatMap((idx) => ["0", pendingWrite(task, idx, "retry")]))).toBe(0);
    }
    expect(await client.hgetallBuffer(keys.writes)).toEqual(before);
    // Mode 1 replaces where the write is: in the bundle in place (same size here), or its own field.
    expect(await put("1", pendingWrite("task-0", 1, "TASK-0/1"), "1", pendingWrite("task-39", 2, "replaced"))).toBe(2);
    const after = splitWriteBundle((await client.hgetBuffer(keys.writes, field)) as Buffer);
    expect(after).toEqual(inBundle.map((w, i) => (i === 1 ? pendingWrite("task-0", 1, "TASK-0/1") : w)));
    expect(await client.hgetBuffer(keys.writes, `${field}\0task-39\0${2}`)).toEqual(
      pendingWrite("task-39", 2, "replaced"),
    );
    expect(await client.zcard(keys.writesIndex)).toBe(overflowFields.length);
  });

  it("saverPutWrites stores a write larger than the bundle limit in its own field, and moves a grown replacement", async () => {
    const keys = saverThreadKeys(testPrefix("swl"), "t");
    const field = checkpointField("", "a");
    const put = (...pairs: (string | Buffer)[]) =>
      runRawScript(client, "saverPutWrites", keys.all, [0, "t", 60_000, "", 0, field, ...triples(field, pairs)]);
    const big = "x".repeat(BUNDLE_BYTES);
    expect(await put("0", pendingWrite("big", 0, big), "0", pendingWrite("small", 0))).toBe(2);
    expect(await client.hgetBuffer(keys.writes, field)).toEqual(bundle(pendingWrite("small", 0)));
    expect(await client.zrange(keys.writesIndex, "0", "-1")).toEqual([`${field}\0big\0${0}`]);
    // Retried: kept (mode 0); an error write of the task that fits goes into the bundle.
    expect(await put("0", pendingWrite("big", 0, "retry"), "1", pendingWrite("big", -1, "err"))).toBe(1);
    expect(await client.hgetBuffer(keys.writes, `${field}\0big\0${0}`)).toEqual(pendingWrite("big", 0, big));
    expect(splitWriteBundle((await client.hgetBuffer(keys.writes, field)) as Buffer)).toEqual([
      pendingWrite("small", 0),
      pendingWrite("big", -1, "err"),
    ]);
    // A replacement too large for the bundle leaves it for its own field; the bundle keeps the others.
    expect(await put("1", pendingWrite("big", -1, big))).toBe(1);
    expect(await client.hgetBuffer(keys.writes, field)).toEqual(bundle(pendingWrite("small", 0)));
    expect(await client.hgetBuffer(keys.writes, `${field}\0big\0${-1}`)).toEqual(pendingWrite("big", -1, big));
    // Replaced again with a small value: stays where it now is. The one write of the bundle replaced by a large one:
    // the bundle field goes.
    expect(await put("1", pendingWrite("big", -1, "small again"), "1", pendingWrite("small", 0, big))).toBe(2);
    expect(await client.hexists(keys.writes, field)).toBe(0);
    expect((await client.zrange(keys.writesIndex, "0", "-1")).sort()).toEqual(
      [`${field}\0big\0${-1}`, `${field}\0big\0${0}`, `${field}\0small\0${0}`].sort(),
    );
    expect(await client.hgetBuffer(keys.writes, `${field}\0big\0${-1}`)).toEqual(
      pendingWrite("big", -1, "small again"),
    );
  });

  it("saverPutWrites refuses to add a task's writes to an unreadable bundle holding that task, writing nothing", async () => {
    const keys = saverThreadKeys(testPrefix("swc"), "t");
    const field = checkpointField("", "a");
    // Cut inside the stored write, after its task id: the script must read the bundle to find that task's writes.
    const broken = bundle(pendingWrite("task", 0)).subarray(0, 16);
    await client.hset(keys.writes, field, broken);
    expect(
      await runRawScript(client, "saverPutWrites", keys.all, [
        0,
        "t",
        60_000,
        "",
        0,
        field,
        ...triples(field, ["1", pendingWrite("task", -1)]),
      ]),
    ).toBe(-1);
    expect(await client.hgetBuffer(keys.writes, field)).toEqual(broken);
  });

  it("saverPutWritesCompact stores writes as saverPutWrites does, from the writes keys and the checkpoints key", async () => {
    const keys = saverThreadKeys(testPrefix("swk"), "t");
    const field = checkpointField("", "a");
    const compactKeys = [keys.writes, keys.writesIndex, keys.checkpoints];
    const put = (...pairs: (string | Buffer)[]) =>
      runRawScript(client, "saverPutWritesCompact", compactKeys, [field, ...triples(field, pairs)]);
    // Bundle: mode 0 inserts if absent, mode 1 replaces in place.
    expect(await put("0", pendingWrite("task", 0, "first"), "1", pendingWrite("task", -1, "first"))).toBe(2);
    expect(await put("0", pendingWrite("task", 0, "second"), "1", pendingWrite("task", -1, "second"))).toBe(1);
    expect(await client.hgetBuffer(keys.writes, field)).toEqual(
      bundle(pendingWrite("task", 0, "first"), pendingWrite("task", -1, "second")),
    );
    // Overflow: a write larger than the bundle limit gets its own field and index entry.
    const big = pendingWrite("big", 0, "x".repeat(BUNDLE_BYTES));
    expect(await put("0", big)).toBe(1);
    expect(await client.zrange(keys.writesIndex, "0", "-1")).toEqual([`${field}\0big\0${0}`]);
    expect(await client.hgetBuffer(keys.writes, `${field}\0big\0${0}`)).toEqual(big);
    expect(await client.exists(keys.checkpoints, keys.blobs, keys.byNamespace, keys.runFences)).toBe(0);
    expect(await client.pttl(keys.writes)).toBe(-1);
    // An unreadable bundle holding the task: -1, nothing written.
    const other = checkpointField("", "b");
    const broken = bundle(pendingWrite("task", 0)).subarray(0, 16);
    await client.hset(keys.writes, other, broken);
    expect(
      await runRawScript(client, "saverPutWritesCompact", compactKeys, [
        other,
        ...triples(other, ["1", pendingWrite("task", -1)]),
      ]),
    ).toBe(-1);
    expect(await client.hgetBuffer(keys.writes, other)).toEqual(broken);
    // A stored record takes the bundle of PACKED_WRITE frames (the writes hash gets no field); frames of earlier
    // releases (what `compression: false` sends) keep the writes-hash bundle.
    const withRecord = checkpointField("", "c");
    const record = frame(["\nch\x001", "json", "{}", "json", "{}"]);
    await client.hset(keys.checkpoints, withRecord, record);
    const packed = packWrite("task", "ch", "json", Buffer.from('"v"'), "", 0, false);
    const putTo = (target: string, ...pairs: (string | Buffer)[]) =>
      runRawScript(client, "saverPutWritesCompact", compactKeys, [target, ...triples(target, pairs)]);
    expect(await putTo(withRecord, "0", packed)).toBe(1);
    expect(await client.hexists(keys.writes, withRecord)).toBe(0);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(record.length);
    const entry = Buffer.concat([Buffer.from([packed.length]), packed]);
    expect(await client.hgetBuffer(keys.checkpoints, withRecord)).toEqual(
      Buffer.concat([Buffer.from([8]), length, record, entry]),
    );
    const plainRecord = checkpointField("", "d");
    await client.hset(keys.checkpoints, plainRecord, record);
    expect(await putTo(plainRecord, "0", pendingWrite("task", 0))).toBe(1);
    expect(await client.hgetBuffer(keys.checkpoints, plainRecord)).toEqual(record);
    expect(await client.hgetBuffer(keys.writes, plainRecord)).toEqual(bundle(pendingWrite("task", 0)));
  });

  it("saverPutWrites finds a task's stored writes among others whose values hold that task id", async () => {
    const keys = saverThreadKeys(testPrefix("swn"), "t");
    const field = checkpointField("", "a");
    const put = (...pairs: (string | Buffer)[]) =>
      runRawScript(client, "saverPutWrites", keys.all, [0, "t", 60_000, "", 0, field, ...triples(field, pairs)]);
    // Another task's value is itself a framed write of task "x": its bytes look like a write of x inside the bundle.
    const lookalike = pendingWrite("x", 0, "fake").toString("latin1");
    expect(await put("0", frame(["y", "ch", "json", lookalike, "", "0"]))).toBe(1);
    expect(await put("0", pendingWrite("x", 0, "real"), "1", pendingWrite("x", -1, "error"))).toBe(2);
    expect(await put("0", pendingWrite("x", 0, "retry"), "1", pendingWrite("x", -1, "again"))).toBe(1);
    expect(await client.hgetBuffer(keys.writes, field)).toEqual(
      bundle(
        frame(["y", "ch", "json", lookalike, "", "0"]),
        pendingWrite("x", 0, "real"),
        pendingWrite("x", -1, "again"),
      ),
    );
  });

  it("saverRead returns a range newest first with blobs and writes, and whether the thread has checkpoints", async () => {
    const keys = saverThreadKeys(testPrefix("sr"), "t");
    for (const id of ["a", "b", "c"]) {
      await runRawScript(
        client,
        "saverPut",
        keys.all,
        putArgs("ns", id, "", 0, [[blobField("ns", "ch", 1), frame(["x", "v"])]]),
      );
    }
    await runRawScript(client, "saverPutWrites", keys.all, [
      0,
      "t",
      60_000,
      "",
      0,
      checkpointField("ns", "b"),
      ...triples(checkpointField("ns", "b"), ["0", pendingWrite("task", 0)]),
    ]);
    const reply = (await runRawBuffer(client, "saverRead", keys.all, ["ns", `(ns\u0000c`, "[ns\u0000", 5, 0])) as [
      number,
      [Buffer, Buffer, (Buffer | null)[], Buffer[], Buffer | null][],
    ];
    expect(reply[0]).toBe(1);
    expect(reply[1].map((entry) => entry[0].toString())).toEqual(["ns\u0000b", "ns\u0000a"]);
    expect(reply[1][0]?.[2]).toEqual([frame(["x", "v"])]);
    // The checkpoint's writes arrive as their overflow writes (none here) and stored bundle; none for a checkpoint
    // without writes.
    expect(reply[1][0]?.[3]).toEqual([]);
    expect(reply[1][0]?.[4]).toEqual(bundle(pendingWrite("task", 0)));
    expect(reply[1][1]?.[3]).toEqual([]);
    expect(reply[1][1]?.[4]).toBeNull();

    const empty = (await runRawBuffer(client, "saverRead", saverThreadKeys(testPrefix("none"), "t").all, [
      "id",
      "+",
      "-",
      1,
      0,
    ])) as [number, unknown[]];
    expect(empty).toEqual([0, [], []]);
    // A range that finds nothing, and one id that is not there, on a thread that has checkpoints: still 1.
    const read = (args: unknown[]) => runRawBuffer(client, "saverRead", keys.all, args) as Promise<[number, unknown[]]>;
    expect((await read(["ns", "(ns\u0000a", "[ns\u0000", 5, 0]))[0]).toBe(1);
    expect((await read(["ns", "[other\u0000x", "[other\u0000x", 1, 0]))[0]).toBe(1);
    expect((await read(["ns", "[ns\u0000c", "[ns\u0000c", 1, 0]))[1]).toHaveLength(1);
    // The newest of a namespace (getTuple without an id): the list's tail, also when a later namespace follows.
    await runRawScript(client, "saverPut", keys.all, putArgs("nt", "a", "", 0, []));
    const newest = await read(["ns", "(ns\u0001", "[ns\u0000", 1, 0]);
    expect((newest[1] as [Buffer][]).map((entry) => entry[0].toString())).toEqual(["ns\u0000c"]);
    const newestOfLast = await read(["ns", "(nt\u0001", "[nt\u0000", 1, 0]);
    expect((newestOfLast[1] as [Buffer][]).map((entry) => entry[0].toString())).toEqual(["nt\u0000a"]);
    expect((await read(["ns", "(nu\u0001", "[nu\u0000", 1, 0]))[1]).toEqual([]);
  });

  it("saverPut refuses a delta blob whose base is missing or of another length, writing nothing", async () => {
    const keys = saverThreadKeys(testPrefix("spd"), "t");
    const base = frame(["json", "[1,2,3]"]);
    const delta = (length: number) => frame([escapePart("1"), String(length), "6", "json", ",4]"], FrameFormat.DELTA);
    const put = (id: string, blobs: [string, Buffer][], version = 1) =>
      runRawScript(client, "saverPut", keys.all, putArgs("", id, "", 0, blobs, { version }));
    // No base stored yet: pair 2 is the delta.
    expect(
      await put("a", [
        [blobField("", "other", 1), frame([])],
        [blobField("", "ch", 2), delta(base.length)],
      ]),
    ).toBe(-2);
    expect(await client.exists(keys.checkpoints, keys.blobs)).toBe(0);
    expect(await put("a", [[blobField("", "ch", 1), base]])).toBe(1);
    expect(await put("b", [[blobField("", "ch", 2), delta(base.length + 1)]])).toBe(-1);
    expect(await client.hexists(keys.checkpoints, checkpointField("", "b"))).toBe(0);
    expect(await put("b", [[blobField("", "ch", 2), delta(base.length)]], 2)).toBe(1);

    // saverRead returns the base beside the entry, once.
    const reply = (await runRawBuffer(client, "saverRead", keys.all, ["id", "+", "-", 5, 0])) as [
      number,
      [Buffer, Buffer, (Buffer | null)[], Buffer | null][],
      Buffer[],
    ];
    expect(reply[1]).toHaveLength(2);
    expect(reply[2].map((b) => b.toString("latin1"))).toEqual([blobField("", "ch", 1), base.toString("latin1")]);
  });

  it("saverPutCompact makes saverPut's writes from 3 keys and 4 arguments: record, index entry, only new blobs", async () => {
    const keys = saverThreadKeys(testPrefix("spc"), "t");
    const three = [keys.checkpoints, keys.blobs, keys.byNamespace];
    const record = (id: string, parent: string) =>
      frame([`${parent}\nch\u00001`, "json", `{"id":"${id}"}`, "json", "{}"]);
    const blob = frame(["json", "1"]);
    const field = blobField("", "ch", 1);
    const put = (id: string, parent: string, blobs: [string, Buffer][]) =>
      runRawScript(client, "saverPutCompact", three, [
        checkpointField("", id),
        record(id, parent),
        "t",
        "t",
        ...blobs.flat(),
      ]);
    expect(await put("a", "", [[field, blob]])).toBe(1);
    expect(await put("b", "a", [[field, frame(["json", "2"])]])).toBe(0);
    expect(await put("c", "b", [])).toBe(0);
    expect(await client.hgetBuffer(keys.blobs, field)).toEqual(blob);
    expect(await client.hgetBuffer(keys.checkpoints, checkpointField("", "b"))).toEqual(record("b", "a"));
    expect(await indexMembers(client, keys.byNamespace)).toEqual(["a", "b", "c"].map((id) => checkpointField("", id)));
    expect(await client.pttl(keys.checkpoints)).toBe(-1);
    // saverRead reads what it wrote.
    const reply = (await runRawBuffer(client, "saverRead", keys.all, ["id", "+", "-", 5, 0])) as [number, unknown[]];
    expect(reply[1]).toHaveLength(3);
  });

  it("saverPutCompact refuses a delta blob whose base is missing or of another length, writing nothing", async () => {
    const keys = saverThreadKeys(testPrefix("spcd"), "t");
    const three = [keys.checkpoints, keys.blobs, keys.byNamespace];
    const base = frame(["json", "[1,2,3]"]);
    const delta = (length: number) => frame([escapePart("1"), String(length), "6", "json", ",4]"], FrameFormat.DELTA);
    const put = (id: string, blobs: [string, Buffer][]) =>
      runRawScript(client, "saverPutCompact", three, [
        checkpointField("", id),
        frame(["\nch\u00002", "json", "{}", "json", "{}"]),
        "t",
        "t",
        ...blobs.flat(),
      ]);
    expect(
      await put("a", [
        [blobField("", "other", 1), frame([])],
        [blobField("", "ch", 2), delta(base.length)],
      ]),
    ).toBe(-2);
    expect(await client.exists(keys.checkpoints, keys.blobs, keys.byNamespace)).toBe(0);
    expect(await put("a", [[blobField("", "ch", 1), base]])).toBe(1);
    expect(await put("b", [[blobField("", "ch", 2), delta(base.length + 1)]])).toBe(-1);
    expect(await client.hexists(keys.checkpoints, checkpointField("", "b"))).toBe(0);
    expect(await put("b", [[blobField("", "ch", 2), delta(base.length)]])).toBe(1);
    expect(await client.hlen(keys.blobs)).toBe(2);
  });

  it("saverPutCompact touches the cross-thread index when due or at the thread's only checkpoint (standalone)", async () => {
    const prefix = testPrefix("spci");
    const keys = saverThreadKeys(prefix, "t");
    const four = [
      keys.checkpoints,
      keys.blobs,
      keys.byNamespace,
      threadRegistryKeys(prefix, threadBucket("t")).updated,
    ];
    const args = (id: string, flags: string) => [
      checkpointField("", id),
      frame(["", "json", "{}", "json", "{}"]),
      "t",
      flags,
    ];
    const put = (id: string, flags: string) => runRawScript(client, "saverPutCompact", four, args(id, flags));
    if (isCluster(client)) {
      await expect(put("a", "t")).rejects.toThrow(/CROSSSLOT/);
      return;
    }
    const index = four[3] as string;
    // Not due, but the thread's only checkpoint: touched.
    expect(await put("a", "")).toBe(0);
    const first = Number(await client.zscore(index, "t"));
    expect(first).toBeGreaterThan(Date.now() - 60_000);
    // Not due, and the thread has checkpoints: left as it is.
    await client.zadd(index, first - 5_000, "t");
    await put("b", "");
    expect(Number(await client.zscore(index, "t"))).toBe(first - 5_000);
    // Due: raised to the server's time.
    await put("b2", "t");
    expect(Number(await client.zscore(index, "t"))).toBeGreaterThanOrEqual(first);
    // A score ahead of the server clock (a thread written faster than once a millisecond) already says the thread
    // was written this recently: a due put on a thread with checkpoints leaves it as it is, never lower.
    const ahead = Date.now() + 3_600_000;
    await client.zadd(index, ahead, "t");
    await put("b3", "t");
    expect(Number(await client.zscore(index, "t"))).toBe(ahead);
    // The first checkpoint of an empty thread always raises it (saverForgetThread keeps an entry whose score moved),
    // due or not.
    await client.del(keys.checkpoints, keys.byNamespace);
    await put("c", "");
    expect(Number(await client.zscore(index, "t"))).toBe(ahead + 1);
    // An index key of another type does not fail the write.
    await client.del(index);
    await client.set(index, "not a sorted set");
    await put("d", "t");
    expect(await client.hlen(keys.checkpoints)).toBe(2);
    expect(await client.get(index)).toBe("not a sorted set");
  });

  /** saverPutCompact without the index key (as on a cluster), putting checkpoint `id` of thread "t" with `flags`. */
  function compactPuts(label: string) {
    const keys = saverThreadKeys(testPrefix(label), "t");
    const three = [keys.checkpoints, keys.blobs, keys.byNamespace];
    const put = (id: string, flags: string) =>
      runRawScript(client, "saverPutCompact", three, [
        checkpointField("", id),
        frame(["", "json", "{}", "json", "{}"]),
        "t",
        flags,
        blobField("", "ch", id),
        frame(["json", "1"]),
      ]);
    return { keys, three, put };
  }

  it("saverPutCompact without the index key (a cluster) answers whether the checkpoint is its thread's only one", async () => {
    const { keys, put } = compactPuts("spca");
    // Not due: the client touches only when told the thread was empty before this checkpoint.
    expect(await put("a", "")).toEqual([-2, 1]);
    expect(await put("b", "")).toBe(1);
    // Due: the client touches beside the script, so the script does not say.
    await client.del(keys.checkpoints, keys.byNamespace);
    expect(await put("c", "t")).toBe(1);
  });

  it('saverPutCompact wraps its reply as -3 when the index is a ZSET, and takes the "l" flag as a hint only', async () => {
    const { keys, three, put } = compactPuts("spcl");
    // A ZSET created for compression: false, alone (a cluster's -2, not due) and then not.
    expect(await put("a", "z")).toEqual([-3, [-2, 1]]);
    expect(await put("b", "z")).toEqual([-3, 1]);
    // A LIST hinted where a ZSET is: the put asks the TYPE after all and lands in the ZSET.
    expect(await put("c", "l")).toEqual([-3, 1]);
    expect(await client.type(keys.byNamespace)).toBe("zset");
    expect(await indexMembers(client, keys.byNamespace)).toEqual(["a", "b", "c"].map((id) => checkpointField("", id)));
    // An absent key hinted as a LIST becomes one, in order; a "z" put on it stays a LIST.
    await client.del(...three);
    expect(await put("b", "l")).toEqual([-2, 1]);
    expect(await put("c", "l")).toBe(1);
    expect(await put("a", "lz")).toBe(1);
    expect(await client.type(keys.byNamespace)).toBe("list");
    expect(await indexMembers(client, keys.byNamespace)).toEqual(["a", "b", "c"].map((id) => checkpointField("", id)));
  });

  it("saverPutCompact asked to upgrade deletes the byId index an earlier release wrote, its last key", async () => {
    const prefix = testPrefix("spcu");
    const keys = saverThreadKeys(prefix, "t");
    const index = threadRegistryKeys(prefix, threadBucket("t")).updated;
    const three = [keys.checkpoints, keys.blobs, keys.byNamespace];
    const blob = frame(["json", "1"]);
    const put = (id: string, parent: string, upgrade: "ut" | "t", extra: string[]) =>
      runRawScript(
        client,
        "saverPutCompact",
        [...three, ...extra],
        [
          checkpointField("", id),
          frame([`${parent}\nch\u00001`, "json", `{"id":"${id}"}`, "json", "{}"]),
          "t",
          upgrade,
          blobField("", "ch", 1),
          blob,
        ],
      );
    await client.zadd(keys.byId, 0, "old\u0000");
    // Without the flag (a thread this process already converted) the put leaves it alone.
    expect(await put("a", "", "t", [])).toBe(1);
    expect(await client.exists(keys.byId)).toBe(1);
    // Flagged, without an index key (a cluster): byId is KEYS[4], not taken for the index.
    expect(await put("b", "a", "ut", [keys.byId])).toBe(0);
    expect(await client.exists(keys.byId)).toBe(0);
    expect(await indexMembers(client, keys.byNamespace)).toEqual(["a", "b"].map((id) => checkpointField("", id)));
    const [hasCheckpoints] = (await runRawBuffer(client, "saverRead", keys.all, ["id", "+", "-", 10, 0])) as [number];
    expect(hasCheckpoints).toBe(1);
    if (isCluster(client)) return;
    // Flagged with the index key (standalone): byId is KEYS[5], and the index is touched as without the flag.
    await client.zadd(keys.byId, 0, "old\u0000");
    expect(await put("c", "b", "ut", [index, keys.byId])).toBe(0);
    expect(await client.exists(keys.byId)).toBe(0);
    expect(Number(await client.zscore(index, "t"))).toBeGreaterThan(Date.now() - 60_000);
    expect(await client.type(index)).toBe("zset");
  });

  it("saverRecordRun: a TTL only from savers with one and never on a set a saver without one wrote to", async () => {
    const prefix = testPrefix("srr");
    const record = (key: string, threadId: string, ttlMs: number) =>
      runRawScript(client, "saverRecordRun", [key], [threadId, ttlMs, 60_000]);
    // A saver with a TTL: the set lives ttlMs + graceMs, renewed when less is left.
    const timed = saverRunThreadsKey(prefix, "timed");
    await record(timed, "a", 100_000);
    expect(await client.pttl(timed)).toBeGreaterThan(150_000);
    await client.pexpire(timed, 1_000);
    await record(timed, "a", 100_000);
    expect(await client.pttl(timed)).toBeGreaterThan(150_000);
    // A thread already recorded there by it: a saver without a TTL leaves the TTL (the thread's keys have it too).
    await record(timed, "a", 0);
    expect(await client.pttl(timed)).toBeGreaterThan(0);
    // A thread new to the set: the set loses its TTL, and a saver with one never puts it back.
    await record(timed, "b", 0);
    expect(await client.pttl(timed)).toBe(-1);
    await record(timed, "c", 100_000);
    await record(timed, "a", 100_000);
    expect(await client.pttl(timed)).toBe(-1);
    expect((await client.hkeys(timed)).sort()).toEqual(["a", "b", "c"]);
    // Created by a saver without a TTL: none, whoever writes next.
    const plain = saverRunThreadsKey(prefix, "plain");
    await record(plain, "a", 0);
    await record(plain, "a", 0);
    await record(plain, "b", 100_000);
    expect(await client.pttl(plain)).toBe(-1);
  });

  it("saverRead refreshes the TTL only when asked to", async () => {
    const keys = saverThreadKeys(testPrefix("srt"), "t");
    await runRawScript(client, "saverPut", keys.all, putArgs("", "a", "", 5_000, []));
    await runRawBuffer(client, "saverRead", keys.all, ["id", "+", "-", 1, 0]);
    expect(await client.pttl(keys.checkpoints)).toBeLessThanOrEqual(5_000);
    await runRawBuffer(client, "saverRead", keys.all, ["id", "+", "-", 1, 600_000]);
    expect(await client.pttl(keys.checkpoints)).toBeGreaterThan(5_000);
  });

  it("saverTouchThread only raises scores, and leaves other entries to saverRegisterThread", async () => {
    const index = threadRegistryKeys(testPrefix("touch"), 0).updated;
    const first = Number(await runRawScript(client, "saverTouchThread", [index], ["t"]));
    const second = Number(await runRawScript(client, "saverTouchThread", [index], ["t"]));
    expect(second).toBeGreaterThan(first);
    await client.zadd(index, 1, "ancient");
    await runRawScript(client, "saverTouchThread", [index], ["t"]);
    expect(await client.zscore(index, "ancient")).toBe("1");
    expect(await client.zscore(index, "t")).not.toBeNull();
    // A score ahead of the server clock (a thread written faster than once a millisecond) still grows, by one.
    const ahead = Date.now() + 3_600_000;
    await client.zadd(index, ahead, "fast");
    expect(Number(await runRawScript(client, "saverTouchThread", [index], ["fast"]))).toBe(ahead + 1);
    expect(Number(await client.zscore(index, "fast"))).toBe(ahead + 1);
  });

  it("saverPut and saverPutWrites update the cross-thread index when given its key (standalone only)", async () => {
    const prefix = testPrefix("sidx");
    const keys = saverThreadKeys(prefix, "t");
    const index = threadRegistryKeys(prefix, threadBucket("t")).updated;
    if (isCluster(client)) {
      // The index lives in another slot: the saver touches it with a separate script there.
      await expect(runRawScript(client, "saverPut", [...keys.all, index], putArgs("", "a", "", 0, []))).rejects.toThrow(
        /CROSSSLOT/,
      );
      return;
    }
    await client.zadd(index, 1, "ancient");
    await runRawScript(client, "saverPut", [...keys.all, index], putArgs("", "a", "", 0, []));
    const first = Number(await client.zscore(index, "t"));
    expect(first).toBeGreaterThan(1);
    expect(await client.zscore(index, "ancient")).toBe("1");
    await runRawScript(
      client,
      "saverPutWrites",
      [...keys.all, index],
      [
        1_000,
        "t",
        0,
        "",
        0,
        checkpointField("", "a"),
        ...triples(checkpointField("", "a"), ["0", pendingWrite("x", 0)]),
      ],
    );
    expect(Number(await client.zscore(index, "t"))).toBeGreaterThan(first);
    expect(await client.zscore(index, "ancient")).toBe("1");
    expect(await client.pttl(index)).toBe(-1);
  });

  it("saverRaiseRunFence records a lease token only if no newer one is recorded, with the thread's TTL", async () => {
    const keys = saverThreadKeys(testPrefix("rf"), "t");
    const raise = (field: string, token: number, ttlMs: number) =>
      runRawScript(client, "saverRaiseRunFence", [keys.runFences], [field, token, ttlMs]);
    expect(await raise("a", 5, 0)).toEqual([1, 5]);
    expect(await client.pttl(keys.runFences)).toBe(-1);
    expect(await raise("a", 5, 0)).toEqual([1, 5]);
    expect(await raise("a", 9, 60_000)).toEqual([1, 9]);
    const ttl = await client.pttl(keys.runFences);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await raise("a", 7, 0)).toEqual([0, 9]);
    // Another field (another lease scope or namespace) has tokens of its own.
    expect(await raise("b", 2, 0)).toEqual([1, 2]);
    expect(await client.hgetall(keys.runFences)).toEqual({ a: "9", b: "2" });
  });

  it("saverPut and saverPutWrites refuse a token older than the recorded one and write nothing", async () => {
    const keys = saverThreadKeys(testPrefix("rfw"), "t");
    await runRawScript(client, "saverRaiseRunFence", [keys.runFences], ["lease", 4, 0]);
    const blob: [string, Buffer] = [blobField("", "ch", 1), frame(["json", "1"])];
    const put = (id: string, parent: string, blobs: [string, Buffer][], fence?: [string, number]) =>
      runRawScript(client, "saverPut", keys.all, putArgs("", id, parent, 0, blobs, { fence }));
    expect(await put("a", "", [blob], ["lease", 3])).toEqual([-1, 4]);
    const writesArgs = (token: number) => [
      0,
      "t",
      60_000,
      "lease",
      token,
      checkpointField("", "a"),
      ...triples(checkpointField("", "a"), ["0", pendingWrite("task", 0)]),
    ];
    expect(await runRawScript(client, "saverPutWrites", keys.all, writesArgs(3))).toEqual([-1, 4]);
    expect(await client.exists(keys.checkpoints, keys.blobs, keys.byNamespace, keys.byId)).toBe(0);
    expect(await client.exists(keys.writes, keys.writesIndex)).toBe(0);

    // The recorded token itself, a newer one, another field and no fence are all written.
    expect(await put("a", "", [blob], ["lease", 4])).toBe(1);
    expect(await put("b", "a", [], ["lease", 8])).toBe(0);
    expect(await put("c", "b", [], ["other", 1])).toBe(0);
    expect(await put("d", "c", [])).toBe(0);
    expect(await runRawScript(client, "saverPutWrites", keys.all, writesArgs(4))).toBe(1);
    expect(await client.hlen(keys.checkpoints)).toBe(4);
    // Writes never raise the fence themselves: only a run that takes the lease does.
    expect(await client.hgetall(keys.runFences)).toEqual({ lease: "4" });
  });

  it("saverPut with a retention argument trims the namespace once the surplus reaches the slack", async () => {
    const keys = saverThreadKeys(testPrefix("spr"), "t");
    // keepLast 2, slack 3: nothing goes until 2 + 3 checkpoints, then the 3 oldest (with their blobs and writes).
    const ids = ["a", "b", "c", "d", "e"];
    for (const [i, id] of ids.entries()) {
      const blobs: [string, Buffer][] = [[blobField("", "ch", i + 1), frame(["json", String(i)])]];
      await runRawScript(
        client,
        "saverPut",
        keys.all,
        putArgs("", id, ids[i - 1] ?? "", 0, blobs, { version: i + 1, retention: "2 3" }),
      );
      await runRawScript(client, "saverPutWrites", keys.all, [
        0,
        "t",
        60_000,
        "",
        0,
        checkpointField("", id),
        ...triples(checkpointField("", id), ["0", pendingWrite("k", 0)]),
      ]);
      expect(await client.hlen(keys.checkpoints)).toBe(i < 4 ? i + 1 : 2);
    }
    expect(await indexMembers(client, keys.byNamespace)).toEqual([checkpointField("", "d"), checkpointField("", "e")]);
    expect((await client.hkeys(keys.blobs)).sort()).toEqual([blobField("", "ch", 4), blobField("", "ch", 5)]);
    expect((await client.hkeys(keys.writes)).sort()).toEqual([checkpointField("", "d"), checkpointField("", "e")]);
  });

  it("saverPrune trims one namespace per call, reports the next, and leaves a pinned thread alone", async () => {
    const keys = saverThreadKeys(testPrefix("spp"), "t");
    for (const [ns, ids] of [
      ["", ["a", "b", "c"]],
      ["sub", ["d", "e"]],
    ] as const) {
      for (const [i, id] of ids.entries()) {
        await runRawScript(
          client,
          "saverPut",
          keys.all,
          putArgs(ns, id, ids[i - 1] ?? "", 0, [[blobField(ns, "ch", i + 1), frame(["json", id])]], { version: i + 1 }),
        );
      }
    }
    // One saverPrune call: keepLast, namespace, the deletes budget (the visits budget and blob check limit ample).
    const prune = (keepLast: number, ns: string, maxDeletes: number) =>
      runRawScript(client, "saverPrune", keys.all, [keepLast, ns, maxDeletes, 1000, 1000]);
    await runRawScript(client, "saverPin", [keys.runFences], ["1", 0]);
    expect(await prune(1, "", 100)).toEqual([1, 0, 0, 0, 0, null, [], 0]);
    expect(await runRawScript(client, "saverPin", [keys.runFences], ["0", 0])).toBe(1);
    // Root: keeps c (b and a go, with their blobs); "sub" comes next, newer than c, so trimmed rather than dropped.
    expect(await prune(1, "", 100)).toEqual([0, 2, 0, 2, 0, "sub", [], 0]);
    expect(await prune(1, "sub", 100)).toEqual([0, 1, 0, 1, 0, null, [], 0]);
    expect(await indexMembers(client, keys.byNamespace)).toEqual([
      checkpointField("", "c"),
      checkpointField("sub", "e"),
    ]);
    // A budget of one checkpoint per call: more is reported until done.
    for (const id of ["f", "g", "h"]) {
      await runRawScript(client, "saverPut", keys.all, putArgs("", id, "", 0, [], {}));
    }
    expect(await prune(1, "", 1)).toEqual([0, 1, 0, 1, 1, "sub", [], 0]);
    // keepLast 0: the whole thread.
    expect(await prune(0, "", 1)).toEqual([0, 4, 0, 1, 0, null, [], 0]);
    expect(await client.exists(...keys.all)).toBe(0);
  });

  it("saverPrune leaves a long namespace's unneeded blobs to saverSweepBlobs, which deletes them page by page", async () => {
    const keys = saverThreadKeys(testPrefix("sweep"), "t");
    const ids = ["a", "b", "c", "d", "e"];
    for (const [i, id] of ids.entries()) {
      const blobs: [string, Buffer][] = [[blobField("", "ch", i + 1), frame(["json", id])]];
      await runRawScript(client, "saverPut", keys.all, putArgs("", id, ids[i - 1] ?? "", 0, blobs, { version: i + 1 }));
    }
    const prune = (maxDeletes: number, blobCheckLimit: number) =>
      runRawScript(client, "saverPrune", keys.all, [1, "", maxDeletes, 1000, blobCheckLimit]);
    const sweepKeys = [keys.checkpoints, keys.blobs, keys.byNamespace, keys.runFences];
    const sweep = (cursor: string, maxRecords: number) =>
      runRawScript(client, "saverSweepBlobs", sweepKeys, [cursor, 1, maxRecords, 1]) as Promise<
        [string, number, number]
      >;
    expect(await sweep("0", 10)).toEqual(["0", 0, 0]);
    // a and b go while c, d and e stay (more than the limit of 2): their blobs stay too, and the thread is marked.
    expect(await prune(2, 2)).toEqual([0, 2, 0, 0, 1, null, [], 1]);
    expect(await client.hget(keys.runFences, "{sweep}")).toBe("1");
    expect(await client.hlen(keys.blobs)).toBe(5);
    // c and d go with e alone left: their blobs are checked at once; the mark stays for a and b's.
    expect(await prune(2, 2)).toEqual([0, 2, 0, 2, 0, null, [], 1]);
    expect((await client.hkeys(keys.blobs)).sort()).toEqual([1, 2, 5].map((v) => blobField("", "ch", v)));
    // A pass skipping the namespace (more checkpoints than maxRecords) deletes nothing and keeps the mark ("2").
    let page = await sweep("0", 0);
    expect(page[1]).toBe(0);
    while (page[0] !== "0") page = await sweep(page[0], 0);
    expect(await client.hget(keys.runFences, "{sweep}")).toBe("2");
    // A full pass deletes what e does not need and removes the mark.
    let deleted = 0;
    let mostRecords = 0;
    let cursor = "0";
    do {
      const [next, blobs, records] = await sweep(cursor, 10);
      deleted += blobs;
      mostRecords = Math.max(mostRecords, records);
      cursor = next;
    } while (cursor !== "0");
    expect(deleted).toBe(2);
    expect(mostRecords).toBe(1);
    expect(await client.hkeys(keys.blobs)).toEqual([blobField("", "ch", 5)]);
    expect(await client.hexists(keys.runFences, "{sweep}")).toBe(0);
  });

  it("saverPin marks and unmarks once, and gives a pin written before the thread the thread's TTL", async () => {
    const keys = saverThreadKeys(testPrefix("spn"), "t");
    expect(await runRawScript(client, "saverPin", [keys.runFences], ["1", 60_000])).toBe(1);
    expect(await runRawScript(client, "saverPin", [keys.runFences], ["1", 60_000])).toBe(0);
    const ttl = await client.pttl(keys.runFences);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await client.hget(keys.runFences, "pinned")).toBe("1");
    expect(await runRawScript(client, "saverPin", [keys.runFences], ["0", 60_000])).toBe(1);
    expect(await runRawScript(client, "saverPin", [keys.runFences], ["0", 60_000])).toBe(0);
    const other = saverThreadKeys(testPrefix("spn"), "t");
    await runRawScript(client, "saverPin", [other.runFences], ["1", 0]);
    expect(await client.pttl(other.runFences)).toBe(-1);
  });

  it("saverForgetThread removes only when the score is unchanged, or unconditionally", async () => {
    const keys = threadRegistryKeys(testPrefix("forget"), 1);
    const forget = (threadId: string, seen: string, ttlMs = 0) =>
      runRawScript(client, "saverForgetThread", [keys.updated, keys.records, keys.index], [threadId, seen, ttlMs]);
    await client.zadd(keys.updated, 5, "t");
    expect(await forget("t", "4")).toBe(0);
    expect(await forget("t", "5")).toBe(1);
    await client.zadd(keys.updated, 6, "t");
    expect(await forget("t", "")).toBe(1);
    expect(await forget("missing", "")).toBe(0);
  });
});

// On a cluster the index key is never passed to a thread script (another slot), so this is standalone only.
describe("saverPut with the cross-thread index key (standalone)", () => {
  let client: RedisClient;
  beforeAll(() => {
    client = newRedis();
  });

  it("saverPut still stores the checkpoint when the index key holds another type (standalone)", async () => {
    const prefix = testPrefix("sidxbad");
    const keys = saverThreadKeys(prefix, "t");
    const index = saverThreadIndexKey(prefix);
    await client.set(index, "not a sorted set");
    await runRawScript(
      client,
      "saverPut",
      [...keys.all, index],
      [1_000, checkpointField("", "a"), frame(["", "json", "{}", "json", "{}"]), "t", 60_000, "", 0, "", "", ""],
    );
    expect(await client.hlen(keys.checkpoints)).toBe(1);
    expect(await client.get(index)).toBe("not a sorted set");
  });
});

/**
 * The saver's Lua scripts on their own: what each stores, the TTL each sets, and each result.
 */

import { isCluster, type RedisClient } from "../../src/client.js";
import { saverThreadIndexKey, saverThreadKeys } from "../../src/keys.js";
import { blobField, checkpointField, checkpointIdMember, frame, writeField } from "../../src/saver/codec.js";
import { newRedis, targets, testPrefix } from "../helpers/redis.js";
import { runRawScript } from "../helpers/scripts.js";

const runRawBuffer = (client: RedisClient, name: "saverRead", keys: readonly string[], args: readonly unknown[]) =>
  runRawScript(client, name, keys, args, true);

describe.each(targets)("saver scripts ($name)", ({ connect }) => {
  let client: RedisClient;
  beforeAll(() => {
    client = connect();
  });

  function putArgs(ns: string, id: string, parent: string, ttlMs: number, blobs: [string, Buffer][]) {
    return [
      ttlMs,
      checkpointField(ns, id),
      checkpointIdMember(ns, id),
      frame([`${parent}\nch\u00001`, "json", `{"id":"${id}"}`, "json", "{}"]),
      "t",
      60_000,
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
    expect(await client.zrange(keys.byNamespace, "0", "-1")).toEqual([
      checkpointField("", "a"),
      checkpointField("", "b"),
    ]);
    expect(await client.zrange(keys.byId, "0", "-1")).toEqual([
      checkpointIdMember("", "a"),
      checkpointIdMember("", "b"),
    ]);
    expect(await client.pttl(keys.checkpoints)).toBe(-1);
  });

  it("saverPut and saverPutWrites set the TTL on every existing key of the thread", async () => {
    const keys = saverThreadKeys(testPrefix("st"), "t");
    await runRawScript(
      client,
      "saverPut",
      keys.all,
      putArgs("", "a", "", 60_000, [[blobField("", "ch", 1), frame([])]]),
    );
    await runRawScript(client, "saverPutWrites", keys.all, [
      60_000,
      "t",
      60_000,
      writeField("", "a", "task", 0),
      "0",
      frame(["w"]),
    ]);
    for (const key of keys.all) {
      const ttl = await client.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
  });

  it("saverPutWrites overwrites in mode 1 and inserts only if absent in mode 0", async () => {
    const keys = saverThreadKeys(testPrefix("sw"), "t");
    const normal = writeField("", "a", "task", 0);
    const special = writeField("", "a", "task", -1);
    const put = (mode: string, value: string) =>
      runRawScript(client, "saverPutWrites", keys.all, [0, "t", 60_000, normal, mode, value, special, "1", value]);
    expect(await put("0", "first")).toBe(2);
    expect(await put("0", "second")).toBe(1);
    expect(await client.hget(keys.writes, normal)).toBe("first");
    expect(await client.hget(keys.writes, special)).toBe("second");
    expect(await client.zcard(keys.writesIndex)).toBe(2);
  });

  it("saverRead returns a range newest first with blobs and writes, and the thread's checkpoint count", async () => {
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
      writeField("ns", "b", "task", 0),
      "0",
      "w",
    ]);
    const reply = (await runRawBuffer(client, "saverRead", keys.all, ["ns", `(ns\u0000c`, "[ns\u0000", 5, 0])) as [
      number,
      [Buffer, Buffer, (Buffer | null)[], (Buffer | null)[]][],
    ];
    expect(reply[0]).toBe(3);
    expect(reply[1].map((entry) => entry[0].toString())).toEqual(["ns\u0000b", "ns\u0000a"]);
    expect(reply[1][0]?.[2]).toEqual([frame(["x", "v"])]);
    expect(reply[1][0]?.[3]).toEqual([Buffer.from("w")]);
    expect(reply[1][1]?.[3]).toEqual([]);

    const empty = (await runRawBuffer(client, "saverRead", saverThreadKeys(testPrefix("none"), "t").all, [
      "id",
      "+",
      "-",
      1,
      0,
    ])) as [number, unknown[]];
    expect(empty).toEqual([0, []]);
  });

  it("saverRead refreshes the TTL only when asked to", async () => {
    const keys = saverThreadKeys(testPrefix("srt"), "t");
    await runRawScript(client, "saverPut", keys.all, putArgs("", "a", "", 5_000, []));
    await runRawBuffer(client, "saverRead", keys.all, ["id", "+", "-", 1, 0]);
    expect(await client.pttl(keys.checkpoints)).toBeLessThanOrEqual(5_000);
    await runRawBuffer(client, "saverRead", keys.all, ["id", "+", "-", 1, 600_000]);
    expect(await client.pttl(keys.checkpoints)).toBeGreaterThan(5_000);
  });

  it("saverTouchThread only raises scores and trims entries idle past the TTL", async () => {
    const index = saverThreadIndexKey(testPrefix("touch"));
    const first = Number(await runRawScript(client, "saverTouchThread", [index], ["t", 0, 0]));
    const second = Number(await runRawScript(client, "saverTouchThread", [index], ["t", 0, 0]));
    expect(second).toBeGreaterThan(first);
    await client.zadd(index, 1, "ancient");
    await runRawScript(client, "saverTouchThread", [index], ["t", 0, 0]);
    expect(await client.zscore(index, "ancient")).toBe("1");
    await runRawScript(client, "saverTouchThread", [index], ["t", 1_000, 0]);
    expect(await client.zscore(index, "ancient")).toBeNull();
    expect(await client.zscore(index, "t")).not.toBeNull();
  });

  it("saverPut and saverPutWrites update the cross-thread index when given its key (standalone only)", async () => {
    const prefix = testPrefix("sidx");
    const keys = saverThreadKeys(prefix, "t");
    const index = saverThreadIndexKey(prefix);
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
      [1_000, "t", 0, writeField("", "a", "x", 0), "0", "w"],
    );
    expect(Number(await client.zscore(index, "t"))).toBeGreaterThan(first);
    expect(await client.zscore(index, "ancient")).toBeNull();
    expect(await client.pttl(index)).toBe(-1);
  });

  it("saverForgetThread removes only when the score is unchanged, or unconditionally", async () => {
    const index = saverThreadIndexKey(testPrefix("forget"));
    await client.zadd(index, 5, "t");
    expect(await runRawScript(client, "saverForgetThread", [index], ["t", "4"])).toBe(0);
    expect(await runRawScript(client, "saverForgetThread", [index], ["t", "5"])).toBe(1);
    await client.zadd(index, 6, "t");
    expect(await runRawScript(client, "saverForgetThread", [index], ["t", ""])).toBe(1);
    expect(await runRawScript(client, "saverForgetThread", [index], ["missing", ""])).toBe(0);
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
      [
        1_000,
        checkpointField("", "a"),
        checkpointIdMember("", "a"),
        frame(["", "json", "{}", "json", "{}"]),
        "t",
        60_000,
      ],
    );
    expect(await client.hlen(keys.checkpoints)).toBe(1);
    expect(await client.get(index)).toBe("not a sorted set");
  });
});

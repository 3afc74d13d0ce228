/**
 * The checkpointer's writes are fenced with the run's lease token: withRunLease records the token on the thread
 * before the run starts, and RedisSaver refuses put and putWrites of a run whose lease a newer run took over.
 */
import { InvalidConfigError, RunLeaseLostError } from "../../src/errors.js";
import { runFenceField, runLeaseHoldersKey, runLeaseMember, saverThreadKeys, threadBucket } from "../../src/keys.js";
import { withRunLease } from "../../src/recovery/with-run-lease.js";
import { RedisSaver } from "../../src/saver/redis-saver.js";
import { RAISE_RUN_FENCE, RUN_FENCE_KEY } from "../../src/saver/run-fence.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { makeCheckpoint, storedWriteValues } from "../saver/saver-helpers.js";
import { FINAL_TRAIL, gate, testGraph, waitUntil } from "./helpers.js";

describe.each(targets)("run fence on $name", ({ connect }) => {
  const client = connect();
  let keyPrefix: string;
  let saver: RedisSaver;
  const config = (threadId: string) => ({ configurable: { thread_id: threadId } });
  beforeEach(() => {
    keyPrefix = testPrefix("fence");
    saver = new RedisSaver({ client, keyPrefix });
  });

  it("a leased run records its token on the thread and writes under it", async () => {
    const app = withRunLease(testGraph({ checkpointer: saver }), { client, keyPrefix, name: "g" });
    expect((await app.invoke({ input: 7 }, config("t1"))).trail).toEqual(FINAL_TRAIL);
    const field = runFenceField(keyPrefix, "g", "");
    const first = Number(await client.hget(saverThreadKeys(keyPrefix, "t1").runFences, field));
    expect(first).toBeGreaterThan(0);
    await app.invoke({ input: 8 }, config("t1"));
    expect(Number(await client.hget(saverThreadKeys(keyPrefix, "t1").runFences, field))).toBeGreaterThan(first);
    // deleteThread removes it with the thread.
    await saver.deleteThread("t1");
    expect(await client.exists(saverThreadKeys(keyPrefix, "t1").runFences)).toBe(0);
  });

  it("a run whose lease was taken over gets RunLeaseLostError from its next write, and nothing is written", async () => {
    const hold = gate();
    let started = false;
    const app = withRunLease(
      testGraph({
        checkpointer: saver,
        behaviour: { b1: { until: hold.opened } },
        onStart: (node) => {
          if (node === "b1") started = true;
        },
      }),
      { client, keyPrefix, name: "g", leaseMs: 60_000 },
    );
    const run = app.invoke({ input: 7 }, config("t2"));
    const failed = run.then(
      () => undefined,
      (error: unknown) => error,
    );
    await waitUntil(() => started, 10);
    const checkpoints = async () => (await client.hkeys(saverThreadKeys(keyPrefix, "t2").checkpoints)).sort();
    // A checkpoint's bundle holds several writes, in its record or in the writes hash: compare the stored bytes of
    // both hashes, not only the fields.
    const writes = async () =>
      (
        await Promise.all(
          (["writes", "checkpoints"] as const).map(async (key) =>
            Object.entries(await client.hgetallBuffer(saverThreadKeys(keyPrefix, "t2")[key])).map(
              ([field, value]) => `${key}:${field}=${value.toString("base64")}`,
            ),
          ),
        )
      )
        .flat()
        .sort();
    const anyWrites = async () => (await storedWriteValues(client, saverThreadKeys(keyPrefix, "t2"))).length > 0;
    const token = Number(
      (await client.hget(runLeaseHoldersKey(keyPrefix, "g", threadBucket("t2")), runLeaseMember("t2", "")))?.split(
        ":",
      )[0],
    );
    // A newer run took the thread over (as withRunLease does after a recoverer's claim); this run's lease entry is
    // untouched, so only the fence can stop it.
    await saver[RAISE_RUN_FENCE]({
      field: runFenceField(keyPrefix, "g", ""),
      token: token + 1,
      threadId: "t2",
      checkpointNs: "",
    });
    await waitUntil(anyWrites, 10); // b2 finished before the takeover
    const [checkpointsBefore, writesBefore] = [await checkpoints(), await writes()];
    hold.open();
    const error = await failed;
    expect(error).toBeInstanceOf(RunLeaseLostError);
    expect(error).toMatchObject({ threadId: "t2", message: expect.stringContaining(`token ${token + 1}`) });
    expect(await checkpoints()).toEqual(checkpointsBefore);
    expect(await writes()).toEqual(writesBefore);
  });

  it("raising a fence below the recorded token fails with RunLeaseLostError", async () => {
    const fence = { field: runFenceField(keyPrefix, "g", ""), threadId: "t3", checkpointNs: "" };
    await saver[RAISE_RUN_FENCE]({ ...fence, token: 10 });
    await expect(saver[RAISE_RUN_FENCE]({ ...fence, token: 9 })).rejects.toBeInstanceOf(RunLeaseLostError);
    await saver[RAISE_RUN_FENCE]({ ...fence, token: 10 });
  });

  it("put and putWrites refuse a malformed fence in the config with InvalidConfigError, writing nothing", async () => {
    const bad = { configurable: { thread_id: "t4", checkpoint_ns: "", [RUN_FENCE_KEY]: { field: "x", token: "1" } } };
    await expect(
      saver.put(bad, makeCheckpoint({ a: 1 }), { source: "input", step: -1, parents: {} }, { a: 1 }),
    ).rejects.toBeInstanceOf(InvalidConfigError);
    await expect(
      saver.putWrites({ configurable: { ...bad.configurable, checkpoint_id: "c" } }, [["a", 1]], "task"),
    ).rejects.toBeInstanceOf(InvalidConfigError);
    expect(await client.exists(...saverThreadKeys(keyPrefix, "t4").all)).toBe(0);
  });
});

/**
 * put() refuses a checkpoint whose LangGraph id was made before its parent's (a process whose clock is behind the one
 * that wrote the parent): stored, it would never be read as the thread's latest. Online, and with the `offline`
 * option while Redis is unreachable (nothing journaled). Ids in order, ids of one 100-ns tick and ids that are not
 * LangGraph's are stored as before.
 */
import { ClockSkewError, RedisSaver } from "../../src/index.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { nextOnline, offlineFixtures, quickOffline } from "../offline/offline-fixtures.js";
import { collect, loopMetadata, makeCheckpoint } from "./saver-helpers.js";

/** Milliseconds between the UUID epoch (1582-10-15) and the Unix epoch. */
const UUID_EPOCH_OFFSET_MS = 12_219_292_800_000n;

/** A version 6 UUID made at Unix time `ms` (plus `steps` of 100 ns), as LangGraph makes checkpoint ids. */
function idAt(ms: number, tail = "8000000000000000", steps = 0n): string {
  const hex = ((BigInt(ms) + UUID_EPOCH_OFFSET_MS) * 10_000n + steps).toString(16).padStart(15, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-6${hex.slice(12, 15)}-${tail.slice(0, 4)}-${tail.slice(4, 16)}`;
}

const config = (threadId: string, checkpointId?: string) => ({
  configurable: { thread_id: threadId, checkpoint_ns: "", ...(checkpointId ? { checkpoint_id: checkpointId } : {}) },
});

const { journalDir, proxied, cleanup } = offlineFixtures();

describe.each(targets)("checkpoint ids against their parent's clock ($name)", ({ connect }) => {
  const now = Date.now();

  async function withParent(saver: RedisSaver, threadId: string, parentId: string) {
    await saver.put(config(threadId), makeCheckpoint({ n: 1 }, { n: 1 }, parentId), loopMetadata(0), { n: 1 });
  }

  it("refuses a checkpoint made before its parent, writes nothing, and names the gap", async () => {
    const saver = new RedisSaver({ client: connect(), keyPrefix: testPrefix("clock") });
    const threadId = testPrefix("thread");
    const parentId = idAt(now);
    await withParent(saver, threadId, parentId);
    const childId = idAt(now - 1500);

    const put = saver.put(config(threadId, parentId), makeCheckpoint({ n: 2 }, { n: 2 }, childId), loopMetadata(1), {
      n: 2,
    });
    await expect(put).rejects.toThrow(ClockSkewError);
    const error = (await put.catch((e: unknown) => e)) as ClockSkewError;
    expect(error).toMatchObject({ threadId, checkpointNs: "", checkpointId: childId, parentId, behindMs: 1500 });
    expect(error.message).toContain("1500 ms before its parent");

    expect(await saver.getTuple(config(threadId, childId))).toBeUndefined();
    expect((await collect(saver.list(config(threadId)))).map((t) => t.checkpoint.id)).toEqual([parentId]);
    expect((await saver.getTuple(config(threadId)))?.checkpoint.id).toBe(parentId);
  });

  it("says less than 1 ms for a gap under a millisecond", async () => {
    const saver = new RedisSaver({ client: connect(), keyPrefix: testPrefix("clock") });
    const threadId = testPrefix("thread");
    const parentId = idAt(now, undefined, 5000n);
    await withParent(saver, threadId, parentId);
    const put = saver.put(config(threadId, parentId), makeCheckpoint({}, {}, idAt(now)), loopMetadata(1), {});
    await expect(put).rejects.toThrow(/less than 1 ms before its parent/);
  });

  it("stores ids in order, ids of the same 100-ns tick, and ids that are not LangGraph's", async () => {
    const saver = new RedisSaver({ client: connect(), keyPrefix: testPrefix("clock") });
    const cases: [string, string][] = [
      [idAt(now), idAt(now + 1)],
      // One tick, random bits in reverse order: the ids say nothing about which clock is behind.
      [idAt(now, "9000000000000000"), idAt(now, "8000000000000000")],
      ["checkpoint-2", "checkpoint-10"],
      [idAt(now), "0-not-a-uuid"],
      // A version 4 UUID (no time in it) under a parent made later.
      [idAt(now), "0f1ed746-498c-49c1-8001-420f45f69a7a"],
    ];
    for (const [parentId, childId] of cases) {
      const threadId = testPrefix("thread");
      await withParent(saver, threadId, parentId);
      await saver.put(config(threadId, parentId), makeCheckpoint({ n: 2 }, { n: 2 }, childId), loopMetadata(1), {
        n: 2,
      });
      expect((await saver.getTuple(config(threadId, childId)))?.parentConfig?.configurable?.checkpoint_id).toBe(
        parentId,
      );
    }
  });
});

describe("checkpoint ids against their parent's clock, offline", () => {
  it("refuses the checkpoint while Redis is unreachable too: nothing is journaled", async () => {
    const { proxy, client } = await proxied();
    const saver = new RedisSaver({ client, keyPrefix: testPrefix("clock-off"), offline: quickOffline(journalDir()) });
    cleanup.push(() => saver.close());
    const threadId = testPrefix("thread");
    const now = Date.now();
    const parentId = idAt(now);
    await saver.put(config(threadId), makeCheckpoint({ n: 1 }, { n: 1 }, parentId), loopMetadata(0), { n: 1 });

    await proxy.cut();
    // A put in order goes to the journal, which the refused one then does not join.
    const childId = idAt(now + 10);
    await saver.put(config(threadId, parentId), makeCheckpoint({ n: 2 }, { n: 2 }, childId), loopMetadata(1), {
      n: 2,
    });
    expect(saver.offlineState).toBe("offline");
    const pending = saver.offlinePendingRecords;
    const behind = saver.put(
      config(threadId, childId),
      makeCheckpoint({}, {}, idAt(now - 60_000)),
      loopMetadata(2),
      {},
    );
    await expect(behind).rejects.toThrow(ClockSkewError);
    expect(saver.offlinePendingRecords).toBe(pending);

    const online = nextOnline(saver);
    await proxy.restore();
    const replay = await online;
    expect(replay.applied).toBeGreaterThan(0);
    expect((await saver.getTuple(config(threadId)))?.checkpoint.id).toBe(childId);
  });
});

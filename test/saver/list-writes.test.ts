/**
 * list() and putWrites() semantics beyond the conformance suite: paging with filters, exact ids, namespaces,
 * writesSortKey ordering, special and normal write indexes, writes before their checkpoint, blobs stored once
 * per (channel, version), and the cost of a read not depending on how long the thread is.
 */
import { RedisSaver } from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { commandsFor, newRedis, targets, testPrefix } from "../helpers/redis.js";
import { collect, inputMetadata, loopMetadata, makeCheckpoint } from "./saver-helpers.js";

const cpId = (i: number) => `cp-${String(i).padStart(6, "0")}`;

/** Puts `count` checkpoints cp-000000.. in one chain; metadata.step = i; every third one has source "input". */
async function chain(saver: RedisSaver, threadId: string, count: number, ns = ""): Promise<void> {
  let parent: string | undefined;
  for (let i = 0; i < count; i++) {
    const checkpoint = makeCheckpoint({ step: i }, { step: i + 1 }, cpId(i));
    await saver.put(
      { configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: parent } },
      checkpoint,
      i % 3 === 0 ? { ...inputMetadata, step: i } : loopMetadata(i),
      { step: i + 1 },
    );
    parent = checkpoint.id;
  }
}

describe.each(targets)("list and putWrites ($name)", ({ connect }) => {
  let saver: RedisSaver;

  beforeAll(() => {
    saver = new RedisSaver({ client: connect(), keyPrefix: testPrefix("lw") });
  });

  it("pages through a long thread newest first, with before, limit and filter", async () => {
    await chain(saver, "long", 250);
    const config = { configurable: { thread_id: "long", checkpoint_ns: "" } };
    const all = await collect(saver.list(config));
    expect(all.map((t) => t.checkpoint.id)).toEqual(Array.from({ length: 250 }, (_, i) => cpId(249 - i)));
    expect(all[0]?.checkpoint.channel_values).toEqual({ step: 249 });
    expect(all[0]?.parentConfig?.configurable?.checkpoint_id).toBe(cpId(248));

    const inputs = await collect(saver.list(config, { filter: { source: "input" } }));
    expect(inputs).toHaveLength(84);
    expect(inputs.every((t) => t.metadata?.source === "input")).toBe(true);
    const fiveInputs = await collect(saver.list(config, { filter: { source: "input" }, limit: 5 }));
    expect(fiveInputs.map((t) => t.metadata?.step)).toEqual([249, 246, 243, 240, 237]);

    const before = { configurable: { checkpoint_id: cpId(120) } };
    const older = await collect(saver.list(config, { before, limit: 3 }));
    expect(older.map((t) => t.checkpoint.id)).toEqual([cpId(119), cpId(118), cpId(117)]);
    expect(await collect(saver.list(config, { limit: 0 }))).toEqual([]);
    expect(await collect(saver.list(config, { filter: { step: 7, source: "loop" } }))).toHaveLength(1);
  });

  it("lists one namespace or every namespace, and an exact checkpoint_id", async () => {
    await chain(saver, "nested", 3, "");
    await chain(saver, "nested", 2, "child:a");
    await chain(saver, "nested", 2, "child:a|grandchild:b");
    const ids = (tuples: { config: { configurable?: Record<string, unknown> } }[]) =>
      tuples.map((t) => `${t.config.configurable?.checkpoint_ns}/${t.config.configurable?.checkpoint_id}`);

    expect(ids(await collect(saver.list({ configurable: { thread_id: "nested", checkpoint_ns: "child:a" } })))).toEqual(
      [`child:a/${cpId(1)}`, `child:a/${cpId(0)}`],
    );
    const every = ids(await collect(saver.list({ configurable: { thread_id: "nested" } })));
    expect(every).toHaveLength(7);
    expect(every.slice(0, 1)).toEqual([`/${cpId(2)}`]);
    const sameId = ids(await collect(saver.list({ configurable: { thread_id: "nested", checkpoint_id: cpId(1) } })));
    expect(sameId.sort()).toEqual([`/${cpId(1)}`, `child:a/${cpId(1)}`, `child:a|grandchild:b/${cpId(1)}`]);
    const exact = await collect(
      saver.list({ configurable: { thread_id: "nested", checkpoint_ns: "child:a", checkpoint_id: cpId(0) } }),
    );
    expect(ids(exact)).toEqual([`child:a/${cpId(0)}`]);
  });

  it("returns pending writes in writesSortKey order (task path, task id, index)", async () => {
    const checkpoint = makeCheckpoint();
    const config = await saver.put({ configurable: { thread_id: "order" } }, checkpoint, inputMetadata, {});
    await saver.putWrites(
      config,
      [
        ["c", "z1"],
        ["c", "z2"],
      ],
      "task-z",
      "~__pregel_pull, b",
    );
    await saver.putWrites(config, [["c", "a1"]], "task-a", "~__pregel_pull, b");
    await saver.putWrites(config, [["c", "y1"]], "task-y", "~__pregel_pull, a");
    await saver.putWrites(config, [["c", "input"]], "00000000-input");
    const tuple = await saver.getTuple(config);
    expect(tuple?.pendingWrites?.map(([, , value]) => value)).toEqual(["input", "y1", "a1", "z1", "z2"]);
  });

  it("overwrites special writes and keeps the first of normal ones", async () => {
    const checkpoint = makeCheckpoint();
    const config = await saver.put({ configurable: { thread_id: "idx" } }, checkpoint, inputMetadata, {});
    await saver.putWrites(
      config,
      [
        ["value", "first"],
        ["__error__", "error 1"],
      ],
      "task",
    );
    await saver.putWrites(
      config,
      [
        ["value", "retried"],
        ["__error__", "error 2"],
      ],
      "task",
    );
    await saver.putWrites(config, [["__interrupt__", "i1"]], "task");
    await saver.putWrites(config, [["__interrupt__", "i2"]], "task");
    const tuple = await saver.getTuple(config);
    expect(tuple?.pendingWrites).toEqual([
      ["task", "__interrupt__", "i2"],
      ["task", "__error__", "error 2"],
      ["task", "value", "first"],
    ]);
  });

  it("accepts writes that arrive before their checkpoint", async () => {
    const checkpoint = makeCheckpoint({ a: 1 });
    const early = { configurable: { thread_id: "early", checkpoint_ns: "", checkpoint_id: checkpoint.id } };
    await saver.putWrites(early, [["a", 2]], "task");
    expect(await saver.getTuple(early)).toBeUndefined();
    await saver.put({ configurable: { thread_id: "early" } }, checkpoint, inputMetadata, { a: 1 });
    expect((await saver.getTuple(early))?.pendingWrites).toEqual([["task", "a", 2]]);
  });

  it("stores a channel value once per version, and only for channels in newVersions", async () => {
    const big = "B".repeat(10_000);
    let parent: string | undefined;
    for (let i = 0; i < 20; i++) {
      const checkpoint = makeCheckpoint({ big, counter: i }, { big: 1, counter: i + 1 }, cpId(i));
      await saver.put(
        { configurable: { thread_id: "blobs", checkpoint_id: parent } },
        checkpoint,
        loopMetadata(i),
        i === 0 ? { big: 1, counter: 1 } : { counter: i + 1 },
      );
      parent = checkpoint.id;
    }
    const blobs = saverThreadKeys(saver.keyPrefix, "blobs").blobs;
    expect(await saver.client.hlen(blobs)).toBe(21);
    const latest = await saver.getTuple({ configurable: { thread_id: "blobs" } });
    expect(latest?.checkpoint.channel_values).toEqual({ big, counter: 19 });
    const first = await saver.getTuple({ configurable: { thread_id: "blobs", checkpoint_id: cpId(0) } });
    expect(first?.checkpoint.channel_values).toEqual({ big, counter: 0 });
  });
});

describe("read cost does not grow with the thread", () => {
  it("getTuple and list(limit 10) run the same commands on 1,000 checkpoints as on 10", async () => {
    const client = newRedis();
    const saver = new RedisSaver({ client, keyPrefix: testPrefix("cost") });
    await chain(saver, "short", 10);
    await chain(saver, "long", 1000);
    const work = (threadId: string) => async () => {
      await saver.getTuple({ configurable: { thread_id: threadId } });
      await collect(saver.list({ configurable: { thread_id: threadId, checkpoint_ns: "" } }, { limit: 10 }));
      await collect(saver.list({ configurable: { thread_id: threadId } }, { limit: 10 }));
    };
    await work("short")(); // loads the scripts and checks the server once
    const short = await commandsFor(client, saver.keyPrefix, work("short"));
    const long = await commandsFor(client, saver.keyPrefix, work("long"));
    expect(short.filter((c) => c === "EVALSHA")).toHaveLength(3);
    expect(short).toContain("LRANGE"); // commands inside the scripts are counted too
    expect(short).toContain("HMGET");
    expect(long).toEqual(short);
  });
});

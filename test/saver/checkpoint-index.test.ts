/**
 * The checkpoint index (include checkpointIndex): a sorted LIST for new threads, the ZSET of earlier releases (and
 * of `compression: false`) kept where it exists. The include's functions run through a test-only script against a
 * reference ZSET driven by the real ZSET commands, on random member sets (adds out of order, repeats, removes, every
 * bound form, REV, LIMIT, several namespaces); then the saver on threads whose index is a ZSET, and which form each
 * writer creates.
 */
import { readFileSync } from "node:fs";
import type { RunnableConfig } from "@langchain/core/runnables";
import {
  type BaseCheckpointSaver,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointMetadata,
  type CheckpointTuple,
  MemorySaver,
} from "@langchain/langgraph-checkpoint";
import type { RedisClient } from "../../src/client.js";
import { CorruptCheckpointError, RedisSaver } from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { checkpointCount } from "../../src/saver/checkpoint-count.js";
import { commandsFor, newRedis, targets, testPrefix } from "../helpers/redis.js";
import { CHANNELS, random, randomHistory } from "./random-history.js";
import { expectNoOrphanBlobs } from "./retention-helpers.js";
import { collect, indexMembers, makeCheckpoint } from "./saver-helpers.js";

const include = (name: string) =>
  readFileSync(`src/lua/include/${name}.lua`, "utf8").replace(/^-- @include \w+$/gm, "");

/** Runs a list of operations of the include on KEYS[1] in one script, so its per-script caches are exercised. */
const HARNESS = `${include("lexOrder")}
${include("checkpointIndex")}
local out = {}
for i, op in ipairs(cjson.decode(ARGV[1])) do
  local r
  if op.op == "range" then
    r = checkpointIndexRange(KEYS[1], op.min, op.max, op.rev, op.offset, op.count)
  elseif op.op == "lexCount" then
    r = checkpointIndexLexCount(KEYS[1], op.min, op.max)
  elseif op.op == "card" then
    r = checkpointIndexCard(KEYS[1])
  elseif op.op == "add" then
    r = checkpointIndexAdd(KEYS[1], op.member, op.zset, op.listHint)
  elseif op.op == "remove" then
    r = checkpointIndexRemove(KEYS[1], op.member, op.fromHead)
  elseif op.op == "removeMany" then
    r = checkpointIndexRemoveMany(KEYS[1], op.members)
  elseif op.op == "build" then
    checkpointIndexBuild(KEYS[1], op.members, op.zset)
    r = 0
  end
  out[i] = r
end
return out
`;

type Op =
  | { op: "range"; min: string; max: string; rev?: boolean; offset?: number; count?: number }
  | { op: "lexCount"; min: string; max: string }
  | { op: "card" }
  | { op: "add"; member: string; zset?: boolean; listHint?: boolean }
  | { op: "remove"; member: string; fromHead?: boolean }
  | { op: "removeMany"; members: string[] }
  | { op: "build"; members: string[]; zset?: boolean };

function harness(client: RedisClient, key: string, ops: Op[]): Promise<unknown[]> {
  return client.eval(HARNESS, 1, key, JSON.stringify(ops)) as Promise<unknown[]>;
}

/** The same operation with the ZSET commands on the reference key. */
async function reference(client: RedisClient, key: string, op: Op): Promise<unknown> {
  switch (op.op) {
    case "range": {
      const ends = op.rev ? [op.max, op.min] : [op.min, op.max];
      const limit = op.offset !== undefined || op.count !== undefined ? ["LIMIT", op.offset ?? 0, op.count ?? -1] : [];
      return client.call("ZRANGE", key, ...ends, "BYLEX", ...(op.rev ? ["REV"] : []), ...limit);
    }
    case "lexCount":
      return client.zlexcount(key, op.min, op.max);
    case "card":
      return client.zcard(key);
    case "add":
      return client.zadd(key, 0, op.member);
    case "remove":
      return client.zrem(key, op.member);
    case "removeMany":
      return client.zrem(key, ...op.members);
    default:
      throw new Error(`no reference for ${op.op}`);
  }
}

// Escaped namespaces as the saver stores them, the root first; ids whose byte order differs from a collation's.
const NAMESPACES = ["", "a", "child:1", "child:1|inner:2", "child:10", "z~"];
const IDS = ["1", "10", "2", "9", "step-10", "step10", "step_1", "a", "A", "a-b", "ab", "~", "!x", "1f0e-77", "1f0e77"];

function randomOps(next: () => number, members: () => string[]) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const member = () => `${pick(NAMESPACES)}\0${next() < 0.7 ? pick(IDS) : Math.floor(next() * 1e6).toString(36)}`;
  const point = () => {
    const known = members();
    const kind = next();
    if (kind < 0.3 && known.length > 0) return pick(known);
    const ns = pick(NAMESPACES);
    if (kind < 0.5) return `${ns}\0`;
    if (kind < 0.65) return `${ns}\u0001`;
    if (kind < 0.7) return "";
    return kind < 0.85 ? `${ns}\0${pick(IDS)}` : ns;
  };
  const bound = (open: string) => {
    const kind = next();
    return kind < 0.12 ? open : `${kind < 0.56 ? "[" : "("}${point()}`;
  };
  const read = (): Op => {
    const kind = next();
    if (kind < 0.15) return { op: "card" };
    if (kind < 0.35) return { op: "lexCount", min: bound("-"), max: bound("+") };
    const op: Op = { op: "range", min: bound("-"), max: bound("+"), rev: next() < 0.5 };
    if (next() < 0.6) {
      op.offset = Math.floor(next() * 4);
      op.count = next() < 0.15 ? -1 : Math.floor(next() * 6);
    }
    return op;
  };
  const write = (): Op => {
    const known = members();
    if (next() < 0.08 && known.length > 0) {
      // Several at once, as deleteForRuns removes a run's (past 8, a LIST blanks them for one LREM); some repeated
      // or absent.
      const many = Array.from({ length: 1 + Math.floor(next() * 16) }, () => (next() < 0.8 ? pick(known) : member()));
      return { op: "removeMany", members: many };
    }
    if (next() < 0.25 && known.length > 0) {
      // From the nearer end (as deleteForRuns removes) or from the head (as retention does).
      return { op: "remove", member: next() < 0.8 ? pick(known) : member(), fromHead: next() < 0.3 };
    }
    // listHint as a put sends it: right for the LIST (or an absent key), wrong for the ZSET (a fallback then).
    return { op: "add", member: next() < 0.15 && known.length > 0 ? pick(known) : member(), listHint: next() < 0.5 };
  };
  return { read, write, member };
}

describe.each(targets)("checkpoint index ($name)", ({ connect }) => {
  let client: RedisClient;
  beforeAll(() => {
    client = connect();
  });

  it("the include answers as the ZSET commands do, from a LIST and from a ZSET, on random member sets", async () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const tag = `{${testPrefix("ix")}}`;
      const [list, zset, ref] = [`${tag}:list`, `${tag}:zset`, `${tag}:ref`];
      const next = random(seed);
      let known: string[] = [];
      const { read, write } = randomOps(next, () => known);
      for (let round = 0; round < 14; round++) {
        // A batch of writes in one script (the type and length caches live through it), then reads.
        const writes = Array.from({ length: 1 + Math.floor(next() * 12) }, write);
        const ops: Op[] = [...writes, ...Array.from({ length: 3 }, read)];
        const expected: unknown[] = [];
        for (const op of ops) expected.push(await reference(client, ref, op));
        const context = `seed ${seed} round ${round}: ${JSON.stringify(ops)}`;
        expect(await harness(client, list, ops), context).toEqual(expected);
        expect(
          await harness(
            client,
            zset,
            ops.map((op) => (op.op === "add" ? { ...op, zset: true } : op)),
          ),
          context,
        ).toEqual(expected);
        known = await client.zrange(ref, "0", "-1");
        const reads = Array.from({ length: 12 }, read);
        const answers: unknown[] = [];
        for (const op of reads) answers.push(await reference(client, ref, op));
        expect(await harness(client, list, reads), `seed ${seed} round ${round}: ${JSON.stringify(reads)}`).toEqual(
          answers,
        );
        expect(await harness(client, zset, reads)).toEqual(answers);
      }
      expect(await client.lrange(list, 0, -1)).toEqual(known);
      expect(await client.type(zset)).toBe(known.length > 0 ? "zset" : "none");
      expect(await client.type(list)).toBe(known.length > 0 ? "list" : "none");
    }
  });

  it("an absent key becomes a LIST unless asked for a ZSET; a build sorts by bytes; another type fails", async () => {
    const tag = `{${testPrefix("ix")}}`;
    expect(await harness(client, `${tag}:a`, [{ op: "add", member: "\0b" }, { op: "card" }])).toEqual([1, 1]);
    expect(await client.type(`${tag}:a`)).toBe("list");
    expect(await harness(client, `${tag}:z`, [{ op: "add", member: "\0b", zset: true }])).toEqual([1]);
    expect(await client.type(`${tag}:z`)).toBe("zset");
    // An existing ZSET stays one, whatever the writer would create.
    expect(await harness(client, `${tag}:z`, [{ op: "add", member: "\0a" }])).toEqual([1]);
    expect(await client.zrange(`${tag}:z`, "0", "-1")).toEqual(["\0a", "\0b"]);

    const next = random(9);
    const { member } = randomOps(next, () => []);
    const members = [...new Set(Array.from({ length: 2500 }, member))];
    await harness(client, `${tag}:built`, [{ op: "build", members }]);
    await harness(client, `${tag}:builtZ`, [{ op: "build", members, zset: true }]);
    await client.zadd(`${tag}:ref`, ...members.flatMap((m) => [0, m]));
    const sorted = await client.zrange(`${tag}:ref`, "0", "-1");
    expect(await client.lrange(`${tag}:built`, 0, -1)).toEqual(sorted);
    // Many removed at once from a long LIST: hundreds of its members, some twice, and some it does not hold.
    const doomed = Array.from({ length: 1200 }, (_, i) =>
      i % 6 === 5 ? member() : (members[(i * 2) % members.length] as string),
    );
    const [removedFromList] = (await harness(client, `${tag}:built`, [{ op: "removeMany", members: doomed }])) as [
      number,
    ];
    const removedFromRef = await client.zrem(`${tag}:ref`, ...doomed);
    expect(removedFromList).toBe(removedFromRef);
    expect(removedFromList).toBeGreaterThan(500);
    expect(await client.lrange(`${tag}:built`, 0, -1)).toEqual(await client.zrange(`${tag}:ref`, "0", "-1"));
    await client.zadd(`${tag}:ref`, ...members.flatMap((m) => [0, m]));
    await client.del(`${tag}:built`);
    await harness(client, `${tag}:built`, [{ op: "build", members }]);
    // Members that come sorted (as copyThread sends them) are pushed as they are.
    await harness(client, `${tag}:builtSorted`, [{ op: "build", members: sorted }]);
    expect(await client.lrange(`${tag}:builtSorted`, 0, -1)).toEqual(sorted);
    expect(await client.zrange(`${tag}:builtZ`, "0", "-1")).toEqual(sorted);
    expect(await harness(client, `${tag}:built`, [{ op: "range", min: "[child:1\0", max: "(child:1\u0001" }])).toEqual([
      await client.zrangebylex(`${tag}:ref`, "[child:1\0", "(child:1\u0001"),
    ]);

    await client.set(`${tag}:s`, "x");
    for (const op of [
      { op: "range", min: "-", max: "+" },
      { op: "card" },
      { op: "add", member: "\0a" },
      { op: "remove", member: "\0a" },
    ] as Op[]) {
      await expect(harness(client, `${tag}:s`, [op])).rejects.toThrow(/WRONGTYPE/);
    }
    expect(await client.get(`${tag}:s`)).toBe("x");
    await expect(checkpointCount(client, `${tag}:s`)).rejects.toThrow(CorruptCheckpointError);
    expect(await checkpointCount(client, `${tag}:built`)).toBe(members.length);
    expect(await checkpointCount(client, `${tag}:builtZ`)).toBe(members.length);
    expect(await checkpointCount(client, `${tag}:none`)).toBe(0);
  });

  it("new threads get a LIST index, compression: false threads a ZSET, and a copy the form of its writer", async () => {
    const keyPrefix = testPrefix("ixf");
    const saver = new RedisSaver({ client, keyPrefix });
    const older = new RedisSaver({ client, keyPrefix, compression: false });
    await randomHistory([saver], "new", 1, 12);
    await randomHistory([older], "old", 2, 12);
    const type = (thread: string) => client.type(saverThreadKeys(keyPrefix, thread).byNamespace);
    expect(await type("new")).toBe("list");
    expect(await type("old")).toBe("zset");
    // Each keeps its form whoever writes it next.
    await randomHistory([older], "new", 3, 4);
    await randomHistory([saver], "old", 4, 4);
    expect(await type("new")).toBe("list");
    expect(await type("old")).toBe("zset");
    await saver.copyThread("old", "old-copy");
    await older.copyThread("new", "new-copy");
    expect(await type("old-copy")).toBe("list");
    expect(await type("new-copy")).toBe("zset");
    for (const [from, to] of [
      ["old", "old-copy"],
      ["new", "new-copy"],
    ] as const) {
      const keys = [from, to].map((t) => saverThreadKeys(keyPrefix, t).byNamespace);
      expect(await indexMembers(client, keys[1] as string)).toEqual(await indexMembers(client, keys[0] as string));
      expect(await checkpointCount(client, keys[1] as string)).toBe(
        await client.hlen(saverThreadKeys(keyPrefix, from).checkpoints),
      );
    }
  });

  it("a thread whose index is a ZSET reads, writes, trims, copies and deletes runs like MemorySaver", async () => {
    for (const seed of [31, 32]) {
      const keyPrefix = testPrefix("ixz");
      const memory = new MemorySaver();
      // Every put lands on a ZSET index: the thread's index is turned into one after each put.
      const redis = new ZsetIndexSaver(client, keyPrefix);
      const steps = await randomHistory([redis, memory], "t", seed, 30, { deltaChannels: ["messages"] });
      const keys = saverThreadKeys(keyPrefix, "t");
      expect(await client.type(keys.byNamespace)).toBe("zset");
      expect(await threadState(redis, "t")).toEqual(await threadState(memory, "t"));
      for (const step of steps.slice(-6)) {
        const config = { configurable: { ...step.config.configurable } };
        expect(await redis.getTuple(config)).toEqual(await memory.getTuple(config));
        expect(await redis.getDeltaChannelHistory({ config, channels: [...CHANNELS] })).toEqual(
          await memory.getDeltaChannelHistory({ config, channels: [...CHANNELS] }),
        );
      }
      const latest = { configurable: { thread_id: "t", checkpoint_ns: "" } };
      expect(await redis.getTuple(latest)).toEqual(await memory.getTuple(latest));

      // A copy made by this release gets a LIST, equal member for member.
      expect(await redis.copyThread("t", "t-copy")).toEqual({ checkpoints: 30 });
      const copyKeys = saverThreadKeys(keyPrefix, "t-copy");
      expect(await client.type(copyKeys.byNamespace)).toBe("list");
      expect(await client.lrange(copyKeys.byNamespace, 0, -1)).toEqual(
        await client.zrange(keys.byNamespace, "0", "-1"),
      );

      // deleteForRuns and prune on the ZSET, against what MemorySaver holds without those checkpoints.
      const doomed = ["run-1"];
      const removed = await redis.deleteForRuns(doomed);
      expect(removed.checkpoints).toBe(2 * steps.filter((s) => doomed.includes(s.runId)).length);
      const expected = (await threadState(memory, "t")).filter(
        (t) => !doomed.includes(String((t.metadata as { run_id?: string } | undefined)?.run_id)),
      );
      expect(await threadState(redis, "t")).toEqual(expected);
      expect(await client.type(keys.byNamespace)).toBe("zset");
      await expectNoOrphanBlobs(redis, "t");
      await redis.prune(["t", "t-copy"], { keepLast: 3 });
      expect(await client.type(keys.byNamespace)).toBe("zset");
      for (const thread of ["t", "t-copy"]) {
        const kept = await threadState(redis, thread);
        const byNs = new Map<string, number>();
        for (const t of kept) {
          const ns = String(t.config.configurable?.checkpoint_ns);
          byNs.set(ns, (byNs.get(ns) ?? 0) + 1);
        }
        // The newest three of the root are always kept (plus what DeltaChannel reads need).
        expect(byNs.get("") ?? 0).toBeGreaterThanOrEqual(3);
        expect(kept.length).toBeLessThan(30);
        const newestRoot = kept.find((t) => t.config.configurable?.checkpoint_ns === "");
        const config = { configurable: { thread_id: thread, checkpoint_ns: "" } };
        expect((await redis.getTuple(config))?.checkpoint.id).toBe(newestRoot?.checkpoint.id);
        await expectNoOrphanBlobs(redis, thread);
      }
      // Either form holds exactly the checkpoints that remain, in byte order.
      for (const threadKeys of [keys, copyKeys]) {
        const fields = (await client.hkeys(threadKeys.checkpoints)).sort();
        expect(await indexMembers(client, threadKeys.byNamespace)).toEqual(fields);
      }
      await redis.deleteForRuns([...new Set(steps.map((s) => s.runId))]);
      expect(await client.exists(...keys.all)).toBe(0);
      expect(await client.exists(...copyKeys.all)).toBe(0);
    }
  });
});

describe("a put asks its index's TYPE only until its process has seen a LIST (standalone, MONITOR)", () => {
  /** Puts checkpoints `from` to `to` - 1 of a chain on the thread, each the child of the one before. */
  async function puts(saver: RedisSaver, threadId: string, from: number, to: number): Promise<void> {
    for (let i = from; i < to; i++) {
      await saver.put(
        {
          configurable: {
            thread_id: threadId,
            checkpoint_ns: "",
            checkpoint_id: i > 0 ? `cp-${String(i - 1).padStart(4, "0")}` : undefined,
          },
        },
        makeCheckpoint({ step: i }, { step: i + 1 }, `cp-${String(i).padStart(4, "0")}`),
        { source: "loop", step: i, parents: {} },
        { step: i + 1 },
      );
    }
  }

  it("a LIST thread's puts after the first send no TYPE; a ZSET thread's keep asking; a key that turned into a ZSET is handled", async () => {
    const client = newRedis();
    const keyPrefix = testPrefix("ixh");
    const saver = new RedisSaver({ client, keyPrefix });
    const older = new RedisSaver({ client, keyPrefix, compression: false });
    const byNamespace = (thread: string) => saverThreadKeys(keyPrefix, thread).byNamespace;
    const types = (commands: string[]) => commands.filter((c) => c === "TYPE").length;

    // A new thread: the first put asks (and converts earlier layouts), the next ones read the LIST's tail at once.
    expect(types(await commandsFor(client, keyPrefix, () => puts(saver, "list", 0, 1)))).toBe(1);
    const next = await commandsFor(client, keyPrefix, () => puts(saver, "list", 1, 5));
    expect(types(next)).toBe(0);
    expect(next.filter((c) => c === "LINDEX")).toHaveLength(4);
    expect(await client.type(byNamespace("list"))).toBe("list");

    // A thread an earlier release (or compression: false) indexed with a ZSET: every put asks, and none fails.
    await puts(older, "zset", 0, 2);
    expect(types(await commandsFor(client, keyPrefix, () => puts(saver, "zset", 2, 6)))).toBe(4);
    expect(await client.type(byNamespace("zset"))).toBe("zset");

    // The LIST thread deleted and written again as a ZSET by another process: the hinted put falls back to asking,
    // the put after it asks from the start.
    await saver.deleteThread("list");
    await puts(older, "list", 0, 2);
    const fallback = await commandsFor(client, keyPrefix, () => puts(saver, "list", 2, 4));
    expect(types(fallback)).toBe(2);
    expect(await client.type(byNamespace("list"))).toBe("zset");
    for (const thread of ["list", "zset"]) {
      const ids = (await collect(saver.list({ configurable: { thread_id: thread } }))).map((t) => t.checkpoint.id);
      expect(ids).toEqual(Array.from({ length: thread === "list" ? 4 : 6 }, (_, i) => `cp-000${i}`).reverse());
    }
  });
});

/** Everything list() returns for a thread, by namespace, then newest first. */
async function threadState(saver: BaseCheckpointSaver, threadId: string): Promise<CheckpointTuple[]> {
  const tuples = await collect(saver.list({ configurable: { thread_id: threadId } }));
  const key = (t: CheckpointTuple) => `${t.config.configurable?.checkpoint_ns}\0${t.checkpoint.id}`;
  return tuples.sort((a, b) => (key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : 0));
}

/** A RedisSaver whose thread index is turned into the ZSET of earlier releases after each put. */
class ZsetIndexSaver extends RedisSaver {
  constructor(
    private readonly redis: RedisClient,
    keyPrefix: string,
  ) {
    super({ client: redis, keyPrefix });
  }

  override async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions,
  ): Promise<RunnableConfig> {
    const stored = await super.put(config, checkpoint, metadata, newVersions);
    const key = saverThreadKeys(this.keyPrefix, String(config.configurable?.thread_id)).byNamespace;
    await this.redis.eval(
      `if redis.call("TYPE", KEYS[1]).ok ~= "list" then return 0 end
       local members = redis.call("LRANGE", KEYS[1], 0, -1)
       redis.call("DEL", KEYS[1])
       for _, m in ipairs(members) do redis.call("ZADD", KEYS[1], 0, m) end
       return #members`,
      1,
      key,
    );
    return stored;
  }
}

/**
 * Values and list limits at the edges, against MemorySaver where it decides: a BigInt in the state is refused
 * before anything is written (LangGraph's serializer would store a stand-in text instead), and list() limits that
 * are not whole numbers are refused with a named error.
 */
import { Annotation, END, MemorySaver, START, StateGraph } from "@langchain/langgraph";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { InvalidInputError, RedisSaver } from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { collect, inputMetadata, loopMetadata, makeCheckpoint } from "./saver-helpers.js";

describe.each(targets)("RedisSaver values and limits ($name)", ({ connect }) => {
  let saver: RedisSaver;

  beforeAll(() => {
    saver = new RedisSaver({ client: connect(), keyPrefix: testPrefix("edge") });
  });

  async function threadKeyCount(threadId: string): Promise<number> {
    return saver.client.exists(...saverThreadKeys(saver.keyPrefix, threadId).all);
  }

  describe("BigInt", () => {
    it("put refuses a BigInt in a channel value, naming where it is, and writes nothing", async () => {
      const config = { configurable: { thread_id: "bigint-put", checkpoint_ns: "" } };
      const checkpoint = makeCheckpoint({ amount: { cents: 1999n } });
      await expect(saver.put(config, checkpoint, inputMetadata, { amount: 1 })).rejects.toThrow(InvalidInputError);
      await expect(saver.put(config, checkpoint, inputMetadata, { amount: 1 })).rejects.toThrow(
        /channel "amount" cannot be serialised: it holds a bigint at value\.cents/,
      );
      expect(await threadKeyCount("bigint-put")).toBe(0);
      expect(await saver.getTuple(config)).toBeUndefined();
    });

    it("put refuses a BigInt in the metadata, and putWrites one in a write", async () => {
      const config = { configurable: { thread_id: "bigint-meta", checkpoint_ns: "" } };
      await expect(saver.put(config, makeCheckpoint(), { ...inputMetadata, total: 5n } as never, {})).rejects.toThrow(
        /the metadata cannot be serialised: it holds a bigint at value\.total/,
      );
      const stored = await saver.put(config, makeCheckpoint({ n: 1 }), loopMetadata(0), { n: 1 });
      await expect(saver.putWrites(stored, [["n", { deep: [[1n]] }]], "task")).rejects.toThrow(
        /written to channel "n" cannot be serialised: it holds a bigint at value\.deep\[0\]\[0\]/,
      );
      expect((await saver.getTuple(stored))?.pendingWrites).toEqual([]);
    });

    it("a value refused at once wins over one the serializer refuses later, and nothing is written", async () => {
      // "amount" goes to the serializer (its bigint); "hook" is refused before anything waits. The serializer's
      // refusal, which comes after, must not surface as an unhandled rejection (vitest fails the run on one).
      const config = { configurable: { thread_id: "bigint-mixed", checkpoint_ns: "" } };
      const checkpoint = makeCheckpoint({ amount: { cents: 1999n }, hook: () => 1 });
      await expect(saver.put(config, checkpoint, inputMetadata, { amount: 1, hook: 1 })).rejects.toThrow(
        /channel "hook" is a function/,
      );
      const stored = await saver.put(config, makeCheckpoint({ n: 1 }), loopMetadata(0), { n: 1 });
      const writes: [string, unknown][] = [
        ["n", 5n],
        ["m", Symbol("s")],
      ];
      await expect(saver.putWrites(stored, writes, "task")).rejects.toThrow(/written to channel "m" is a symbol/);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await saver.getTuple(stored))?.pendingWrites).toEqual([]);
      expect((await saver.getTuple(stored))?.checkpoint.channel_values).toEqual({ n: 1 });
    });

    it("still stores the serializer's stand-in text when it is the value itself", async () => {
      const text = "[unable to serialize, circular reference is too complex to analyze]";
      const config = { configurable: { thread_id: "bigint-text", checkpoint_ns: "" } };
      const stored = await saver.put(config, makeCheckpoint({ note: text }), inputMetadata, { note: 1 });
      expect((await saver.getTuple(stored))?.checkpoint.channel_values).toEqual({ note: text });
    });

    it("a graph whose state holds a BigInt fails with InvalidInputError instead of storing a stand-in", async () => {
      const State = Annotation.Root({ amount: Annotation<{ cents: bigint | number }> });
      const build = (checkpointer: BaseCheckpointSaver) =>
        new StateGraph(State)
          .addNode("price", () => ({ amount: { cents: 1999n } }))
          .addEdge(START, "price")
          .addEdge("price", END)
          .compile({ checkpointer });
      const config = { configurable: { thread_id: "bigint-graph" } };
      await expect(build(saver).invoke({ amount: { cents: 1 } }, config)).rejects.toThrow(InvalidInputError);
      // the input step was stored; the step with the BigInt was not
      const tuples = await collect(saver.list(config));
      expect(tuples.map((t) => t.checkpoint.channel_values)).not.toContainEqual(
        expect.objectContaining({ amount: expect.anything() }),
      );
    });
  });

  describe("list() limit", () => {
    const threadId = "limits";
    const config = { configurable: { thread_id: threadId } };

    beforeAll(async () => {
      let parent: { configurable: Record<string, string> } = {
        configurable: { thread_id: threadId, checkpoint_ns: "" },
      };
      for (let step = 0; step < 3; step++) {
        parent = (await saver.put(parent, makeCheckpoint({ n: step }), loopMetadata(step), { n: step + 1 })) as never;
      }
    });

    it.each([
      [1, 1],
      [2, 2],
      [10, 3],
      [0, 0],
      [-1, 0],
      [Number.POSITIVE_INFINITY, 3],
      [undefined, 3],
    ])("limit %s gives %i checkpoints, as MemorySaver does", async (limit, count) => {
      expect(await collect(saver.list(config, { limit: limit as number }))).toHaveLength(count);
      const memory = new MemorySaver();
      let parent = { configurable: { thread_id: threadId, checkpoint_ns: "" } } as never;
      for (let step = 0; step < 3; step++) {
        parent = (await memory.put(parent, makeCheckpoint({ n: step }), loopMetadata(step))) as never;
      }
      expect(await collect(memory.list(config, { limit: limit as number }))).toHaveLength(count);
    });

    // MemorySaver gives 2 checkpoints for 1.5 and none for null: refused here rather than guessed
    it.each([1.5, 0.5, Number.NaN, null, "2", -Number.POSITIVE_INFINITY])(
      "limit %s is refused with InvalidInputError",
      async (limit) => {
        await expect(collect(saver.list(config, { limit: limit as never }))).rejects.toThrow(InvalidInputError);
        await expect(collect(saver.list(config, { limit: limit as never }))).rejects.toThrow(
          /limit must be a whole number/,
        );
      },
    );
  });
});

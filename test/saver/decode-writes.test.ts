/**
 * decodeWriteList (src/saver/decode.ts): most writes decode synchronously, the rest (large compressed values, values
 * that need the serializer) are awaited together. Results keep the writes' order whichever way each went, and a
 * write that fails at once leaves no write still decoding to reject unobserved.
 */
import { deflateRawSync } from "node:zlib";
import { AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { DeltaSnapshot, JsonPlusSerializer } from "@langchain/langgraph-checkpoint";
import fc from "fast-check";
import { CorruptCheckpointError } from "../../src/errors.js";
import { loadBatchNow, loadTogetherNow } from "../../src/saver/batch-load.js";
import type { SaverContext } from "../../src/saver/context.js";
import { decodeWriteList } from "../../src/saver/decode.js";
import { MESSAGE_TOKENS_TYPE, tokenize } from "../../src/saver/message-tokens.js";
import { packWrite } from "../../src/saver/write-frame.js";

const serde = new JsonPlusSerializer();
const context = { serde, maxValueBytes: 64 * 1024 * 1024 } as unknown as SaverContext;
const source = { key: "k:writes", what: () => "a test write" };

async function write(idx: number, value: unknown, deflate = false): Promise<Buffer> {
  const [type, bytes] = await serde.dumpsTyped(value);
  const stored = deflate ? deflateRawSync(bytes) : bytes;
  return packWrite("task", "channel", type, stored, "~__pregel_pull, node", idx, deflate);
}

/** A write stored as the saver stores a message: its JSON with message tokens. */
async function tokenWrite(idx: number, value: unknown): Promise<Buffer> {
  const [, bytes] = await serde.dumpsTyped(value);
  const { text } = tokenize(Buffer.from(bytes).toString("utf8"));
  return packWrite("task", "channel", MESSAGE_TOKENS_TYPE, Buffer.from(text, "utf8"), "", idx, false);
}

/** Each write decoded alone (a list of one is never decoded together with others). */
async function decodedAlone(values: readonly Buffer[]): Promise<unknown[]> {
  const alone = await Promise.all(values.map((value) => decodeWriteList(context, source, [value])));
  return alone.map(([decoded]) => decoded?.write[2]);
}

describe("decodeWriteList", () => {
  it("decodes many small writes together, each exactly as it decodes alone", async () => {
    const values = [
      ...(await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          tokenWrite(
            i,
            i % 2 === 0
              ? new HumanMessage({ content: `question ${i}`, id: `q${i}` })
              : new AIMessage({ content: `answer ${i}`, id: `a${i}`, tool_calls: [] }),
          ),
        ),
      )),
      await tokenWrite(8, [new ToolMessage({ content: "42", tool_call_id: "call-1" })]),
      await tokenWrite(9, { nested: { list: [1, "two", null], message: new AIMessage("inside") } }),
      await write(10, { a: 1 }),
      await write(11, [1, 2, 3]),
      await write(12, "text"),
      await write(13, null),
      await write(14, undefined),
      // Needs the serializer's own reviver: decoded alone, in its place.
      await write(15, new Set([1, 2])),
      await write(16, 17.5),
    ];
    const decoded = await decodeWriteList(context, source, values);
    const together = decoded.map(({ write }) => write[2]);
    const alone = await decodedAlone(values);
    expect(together).toEqual(alone);
    together.forEach((value, i) => {
      expect(Object.getPrototypeOf(value ?? {})).toBe(Object.getPrototypeOf(alone[i] ?? {}));
    });
    expect(together[1]).toBeInstanceOf(AIMessage);
    expect((together[8] as unknown[])[0]).toBeInstanceOf(ToolMessage);
    expect(together[14]).toBeUndefined();
    expect(together[15]).toEqual(new Set([1, 2]));
    expect(decoded.map(({ sortKey }) => sortKey[2])).toEqual(values.map((_, i) => i));
  });

  it("decodes random lists of writes together exactly as alone (JSON and message tokens, mixed)", async () => {
    const { node } = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        fc.jsonValue({ maxDepth: 1 }),
        fc.constant(undefined),
        fc.array(tie("node"), { maxLength: 3 }),
        fc.dictionary(fc.string({ maxLength: 4 }), tie("node"), { maxKeys: 3 }),
        tie("node").map((value) => new DeltaSnapshot(value)),
        fc.string({ maxLength: 8 }).map((content) => new HumanMessage({ content, id: "h" })),
        fc.string({ maxLength: 8 }).map((content) => new AIMessage({ content, tool_calls: [] })),
        fc.constant(new Set(["needs the serializer"])),
      ),
    }));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(node, fc.boolean()), { maxLength: 12 }), async (items) => {
        const values = await Promise.all(
          items.map(([value, tokens], i) => (tokens ? tokenWrite(i, value) : write(i, value))),
        );
        const decoded = await decodeWriteList(context, source, values);
        expect(decoded.map(({ write }) => write[2])).toStrictEqual(await decodedAlone(values));
      }),
      { numRuns: 200 },
    );
  });

  it("parses a batch once, and leaves to one-by-one decoding what a joined parse cannot give back", async () => {
    const tokens = async (value: unknown) => {
      const [, bytes] = await serde.dumpsTyped(value);
      return Buffer.from(tokenize(Buffer.from(bytes).toString("utf8")).text, "utf8");
    };
    const messages = await Promise.all(Array.from({ length: 6 }, (_, i) => tokens(new HumanMessage(`q${i}`))));
    const batch = loadBatchNow(MESSAGE_TOKENS_TYPE, messages);
    expect(batch?.map((message) => (message as HumanMessage).content)).toEqual(["q0", "q1", "q2", "q3", "q4", "q5"]);
    expect(batch?.every((message) => message instanceof HumanMessage)).toBe(true);
    // Too few to be worth it; one value that is two elements; one that needs the serializer; another serde.
    expect(loadBatchNow(MESSAGE_TOKENS_TYPE, messages.slice(0, 3))).toBeUndefined();
    const json = (text: string) => Buffer.from(text, "utf8");
    expect(loadBatchNow("json", [json("1,2"), json("3"), json("4"), json("5")])).toBeUndefined();
    const [, set] = await serde.dumpsTyped(new Set([1]));
    expect(loadBatchNow("json", [json("1"), json("2"), json("3"), Buffer.from(set)])).toBeUndefined();
    // Another serde decodes every value itself.
    class OwnSerde extends JsonPlusSerializer {}
    const own = { serde: new OwnSerde(), maxValueBytes: 1e6 } as unknown as SaverContext;
    const stored = messages.map((bytes) => ({
      type: Buffer.from(MESSAGE_TOKENS_TYPE),
      stored: bytes,
      deflated: false,
    }));
    expect(loadTogetherNow(context, stored).size).toBe(6);
    expect(loadTogetherNow(own, stored).size).toBe(0);
  });

  it("reports a damaged write among writes decoded together at its key", async () => {
    const good = await Promise.all(Array.from({ length: 5 }, (_, i) => write(i, { i })));
    // Each is no JSON value alone, though joined with its neighbours they would parse.
    for (const damaged of ["1,2", '{"a":1', "", "[1"]) {
      const bad = packWrite("task", "channel", "json", Buffer.from(damaged), "", 9, false);
      const error = await decodeWriteList(context, source, [...good.slice(0, 2), bad, ...good.slice(2)]).catch(
        (e: unknown) => e,
      );
      expect(error, damaged).toBeInstanceOf(CorruptCheckpointError);
      expect((error as CorruptCheckpointError).key).toBe("k:writes");
    }
  });

  it("keeps maxValueBytes for message-token writes that could expand past it", async () => {
    const small = { serde, maxValueBytes: 2000 } as unknown as SaverContext;
    const messages = await Promise.all(Array.from({ length: 5 }, (_, i) => tokenWrite(i, new AIMessage(`m${i}`))));
    // 40 one-byte codes of the longest phrases: about 2,500 characters once expanded.
    const bomb = packWrite("task", "channel", MESSAGE_TOKENS_TYPE, Buffer.alloc(40, 1), "", 5, false);
    const error = await decodeWriteList(small, source, [...messages, bomb]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptCheckpointError);
    expect(String(error)).toContain("maxValueBytes");
    const decoded = await decodeWriteList(small, source, messages);
    expect(decoded.map(({ write }) => (write[2] as AIMessage).content)).toEqual(["m0", "m1", "m2", "m3", "m4"]);
  });

  it("decodes synchronous, compressed and serializer-bound writes in their order", async () => {
    // Over 4 KiB deflated: inflated off the calling thread, then decoded.
    const large = Array.from({ length: 3000 }, (_, i) => `${i}:${(i * 7919) % 104729}`);
    const values = [
      await write(0, { a: 1 }),
      await write(1, large, true),
      await write(2, new Set([1, 2])),
      await write(3, "text", true),
    ];
    expect(values[1]?.length).toBeGreaterThan(4096);
    const decoded = await decodeWriteList(context, source, values);
    expect(decoded.map(({ write }) => write[2])).toEqual([{ a: 1 }, large, new Set([1, 2]), "text"]);
    expect(decoded.map(({ write }) => write[0])).toEqual(["task", "task", "task", "task"]);
  });

  it("fails with the first write that cannot be decoded, leaving no rejection unobserved", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const bad = packWrite("task", "channel", "json", Buffer.from("{not json"), "", 1, false);
      // Bytes that are no raw deflate, long enough to be inflated asynchronously: that one rejects later.
      const badDeflated = packWrite("task", "channel", "json", Buffer.alloc(5000, 0xff), "", 0, true);
      const error = await decodeWriteList(context, source, [badDeflated, bad]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptCheckpointError);
      expect((error as CorruptCheckpointError).key).toBe("k:writes");
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});

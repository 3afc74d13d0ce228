/**
 * The saver's JSON reviver (src/saver/json-revive.ts) against LangGraph's JsonPlusSerializer: for every value the
 * serializer writes, reading it back through loadsJson gives exactly what serde.loadsTyped gives (same classes,
 * same keys, same undefined entries), including the values it hands back to the serializer.
 */
import {
  AIMessage,
  AIMessageChunk,
  type BaseMessage,
  ChatMessage,
  ChatMessageChunk,
  FunctionMessage,
  FunctionMessageChunk,
  HumanMessage,
  HumanMessageChunk,
  RemoveMessage,
  SystemMessage,
  SystemMessageChunk,
  ToolMessage,
  ToolMessageChunk,
} from "@langchain/core/messages";
import { DeltaSnapshot, JsonPlusSerializer } from "@langchain/langgraph-checkpoint";
import fc from "fast-check";
import {
  isPlainJsonPlus,
  LOAD_LATER,
  loadsJson,
  loadsJsonNow,
  revivesSynchronously,
} from "../../src/saver/json-revive.js";
import { messageArbitraries } from "./fixtures/message-arbitraries.js";

const serde = new JsonPlusSerializer();

async function bothWays(value: unknown): Promise<[unknown, unknown]> {
  const [type, bytes] = await serde.dumpsTyped(value);
  return [await serde.loadsTyped(type, bytes), await loadsJson(serde, type, bytes)];
}

function expectSameShape(actual: unknown, expected: unknown): void {
  expect(actual).toStrictEqual(expected);
  if (expected !== null && typeof expected === "object") {
    expect((actual as object).constructor).toBe((expected as object).constructor);
  }
}

describe("loadsJson", () => {
  it("revives LangChain messages, plain JSON and nested structures as the serializer does", async () => {
    const messages = [
      new HumanMessage({ content: "hello", id: "m-1" }),
      new AIMessage({
        content: "calling a tool",
        id: "m-2",
        tool_calls: [{ id: "call-1", name: "lookup", args: { order: "A-1", amount: 12 } }],
      }),
      new ToolMessage({ content: "found", tool_call_id: "call-1", id: "m-3" }),
    ];
    const value = { messages, counter: 3, nested: { list: [1, "two", null, { deep: [true] }] }, empty: {} };
    const [expected, actual] = await bothWays(value);
    expectSameShape(actual, expected);
    const revived = actual as { messages: unknown[] };
    expect(revived.messages.map((m) => (m as object).constructor.name)).toEqual([
      "HumanMessage",
      "AIMessage",
      "ToolMessage",
    ]);
  });

  it("reads lc 2 records (undefined, DeltaSnapshot, or handed to the serializer) and __proto__ keys as it does", async () => {
    const values: unknown[] = [
      { gone: undefined, kept: 1 },
      [undefined, 2],
      new Set([1, 2]),
      new Map([["a", 1]]),
      /ab+c/gi,
      new Error("boom"),
      new Uint8Array([1, 2, 3]),
      new DeltaSnapshot([new HumanMessage("snap")]),
      new DeltaSnapshot(undefined),
      { snapshot: new DeltaSnapshot({ inner: new DeltaSnapshot([undefined, new AIMessage("deep")]) }), set: new Set() },
      new AIMessage({ content: "a field left undefined", name: undefined, additional_kwargs: { gap: [undefined] } }),
      new HumanMessage({ content: [{ type: "text", text: "t", extra: undefined }], id: undefined }),
      { m: new AIMessage({ content: "x", additional_kwargs: { kept: { lc: 1 }, gap: undefined } }) },
      JSON.parse('{"a": {"lc": 2, "type": "delta_snapshot"}, "b": [{"lc": 2, "type": "undefined"}]}'),
      JSON.parse('{"b": {"lc": 2, "type": "unknown", "x": [{"lc": 2, "type": "undefined"}]}}'),
      JSON.parse('{"a": {"lc": 2, "type": "undefined", "extra": {"lc": 2, "type": "undefined"}}}'),
      JSON.parse('{"__proto__": {"polluted": true}, "a": 1}'),
      { messages: [new AIMessage("x")], tags: new Set(["t"]) },
    ];
    for (const value of values) {
      const [expected, actual] = await bothWays(value);
      expectSameShape(actual, expected);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("matches the serializer on values with undefined and DeltaSnapshot anywhere", async () => {
    const { node } = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        fc.jsonValue({ maxDepth: 0 }),
        fc.constant(undefined),
        fc.array(tie("node"), { maxLength: 3 }),
        fc.dictionary(fc.string({ maxLength: 4 }), tie("node"), { maxKeys: 3 }),
        tie("node").map((value) => new DeltaSnapshot(value)),
        fc.string({ maxLength: 4 }).map((content) => new HumanMessage({ content, id: "h" })),
      ),
    }));
    await fc.assert(
      fc.asyncProperty(node, async (value) => {
        const [expected, actual] = await bothWays(value);
        expectSameShape(actual, expected);
      }),
      { numRuns: 300 },
    );
  });

  it("passes other serializer types through", async () => {
    const bytes = new Uint8Array([7, 8]);
    expect(await loadsJson(serde, "bytes", bytes)).toEqual(await serde.loadsTyped("bytes", bytes));
  });

  it("matches the serializer on arbitrary JSON values", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        const [expected, actual] = await bothWays(value);
        expect(actual).toStrictEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it("is used only for LangGraph's serializer itself", () => {
    expect(isPlainJsonPlus(serde)).toBe(true);
    class Custom extends JsonPlusSerializer {}
    expect(isPlainJsonPlus(new Custom())).toBe(false);
    expect(isPlainJsonPlus({ dumpsTyped: async () => ["json", new Uint8Array()], loadsTyped: async () => 1 })).toBe(
      false,
    );
  });
});

/** The outcome of a read, so a rejection can be compared too. */
async function settle(read: () => Promise<unknown>): Promise<{ value: unknown } | { error: string }> {
  try {
    return { value: await read() };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** loadsJson and the serializer on the same bytes: the same value (classes included) or the same rejection. */
async function expectSameRead(text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  const expected = await settle(() => serde.loadsTyped("json", bytes));
  const actual = await settle(() => loadsJson(serde, "json", bytes));
  expect(actual).toStrictEqual(expected);
  if ("value" in expected && "value" in actual) expectSameClasses(actual.value, expected.value);
}

/** toStrictEqual already compares classes; this names the path where two constructors differ. */
function expectSameClasses(actual: unknown, expected: unknown, path = "$"): void {
  if (expected === null || typeof expected !== "object") return;
  expect({ path, constructor: (actual as object).constructor }).toStrictEqual({
    path,
    constructor: (expected as object).constructor,
  });
  for (const key of Object.keys(expected)) {
    expectSameClasses(
      (actual as Record<string, unknown>)[key],
      (expected as Record<string, unknown>)[key],
      `${path}.${key}`,
    );
  }
}

/** A message as the serializer writes it, parsed: the record the walk meets. */
async function recordOf(message: BaseMessage): Promise<unknown> {
  const [, bytes] = await serde.dumpsTyped(message);
  return JSON.parse(new TextDecoder().decode(bytes));
}

function messageRecord(name: string, kwargs: Record<string, unknown>, namespace = ["langchain_core", "messages"]) {
  return { lc: 1, type: "constructor", id: [...namespace, name], kwargs };
}

describe("loadsJsonNow", () => {
  it("gives the serializer's value without awaiting, or LOAD_LATER when the value needs the serializer or load()", async () => {
    const inner = new HumanMessage({ content: "inner", id: "i" });
    const synchronous: unknown[] = [
      { messages: [new HumanMessage({ content: "q", id: "q" }), new AIMessage({ content: "a", id: "a" })] },
      [1, "two", null, { deep: [true] }],
      { gone: undefined, kept: new DeltaSnapshot([new AIMessage("snap")]) },
      "text",
    ];
    for (const value of synchronous) {
      const [type, bytes] = await serde.dumpsTyped(value);
      const now = loadsJsonNow(type, bytes);
      expect(now).not.toBe(LOAD_LATER);
      expectSameShape(now, await serde.loadsTyped(type, bytes));
    }
    const later: unknown[] = [
      new Set([1]),
      { tags: new Map([["a", 1]]), messages: [new AIMessage("x")] },
      { m: new AIMessage({ content: "outer", additional_kwargs: { inner } }) },
      JSON.parse('{"__proto__": {"polluted": true}}'),
    ];
    for (const value of later) {
      const [type, bytes] = await serde.dumpsTyped(value);
      expect(loadsJsonNow(type, bytes)).toBe(LOAD_LATER);
      expectSameShape(await loadsJson(serde, type, bytes), await serde.loadsTyped(type, bytes));
    }
    expect(loadsJsonNow("bytes", new Uint8Array([7, 8]))).toBe(LOAD_LATER);
    expect(() => loadsJsonNow("json", "{not json")).toThrow(SyntaxError);
  });
});

describe("loadsJson: synchronous message revival", () => {
  const { json, message } = messageArbitraries();

  it("takes every message class it accepts (as the serializer writes them) without load()", async () => {
    const samples: BaseMessage[] = [
      new HumanMessage({ content: "hi", id: "h" }),
      new HumanMessageChunk({ content: "hi" }),
      new SystemMessage("rules"),
      new SystemMessageChunk("rules"),
      new AIMessage({
        content: [{ type: "text", text: "x" }],
        tool_calls: [{ id: "c", name: "f", args: { a: 1 } }],
        invalid_tool_calls: [{ id: "d", name: "g", args: "{", error: "bad" }],
        usage_metadata: { input_tokens: 1, output_tokens: 2, total_tokens: 3 },
        response_metadata: { model: "m" },
        additional_kwargs: { refusal: null },
      }),
      new AIMessageChunk({ content: "x", tool_call_chunks: [{ name: "f", args: '{"a":1}', id: "c", index: 0 }] }),
      new ToolMessage({ content: "r", tool_call_id: "c", artifact: { rows: [1] }, status: "error" }),
      new ToolMessageChunk({ content: "r", tool_call_id: "c" }),
      new FunctionMessage({ content: "r", name: "f" }),
      new FunctionMessageChunk({ content: "r", name: "f" }),
      new ChatMessage({ content: "r", role: "critic" }),
      new ChatMessageChunk({ content: "r", role: "critic" }),
      new RemoveMessage({ id: "gone" }),
      // Fields left undefined: the serializer writes undefined records, which load's JSON round trip drops.
      new AIMessage({
        content: "x",
        name: undefined,
        usage_metadata: undefined,
        additional_kwargs: { gap: [undefined, 1], deep: { u: undefined, kept: 2 } },
      }),
    ];
    for (const sample of samples)
      expect({ [sample.constructor.name]: revivesSynchronously(await recordOf(sample)) }).toEqual({
        [sample.constructor.name]: true,
      });
  });

  it("matches the serializer on arbitrary messages of every accepted class in state-like values", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(message, { maxLength: 6 }), message, fc.nat(), async (messages, last, counter) => {
        const value = {
          messages,
          counter,
          nested: { last, list: [last, { inner: messages[0] ?? null }], none: null },
        };
        const [expected, actual] = await bothWays(value);
        expectSameShape(actual, expected);
        expectSameClasses(actual, expected);
      }),
      { numRuns: 300 },
    );
  });

  it("maps arbitrary kwargs keys and values as load() does", async () => {
    const names = ["AIMessage", "HumanMessage", "ToolMessage", "ChatMessage", "AIMessageChunk", "RemoveMessage"];
    const key = fc.oneof(
      fc.constantFrom(
        "content",
        "id",
        "tool_calls",
        "toolCalls",
        "Tool_Calls",
        " tool-calls ",
        "additional_kwargs",
        "response_metadata",
        "usage_metadata",
        "tool_call_id",
        "lc_kwargs",
        "type",
        "constructor",
        "toString",
        "hasOwnProperty",
        "__lc_escaped__",
        "lc",
        "__proto__",
        "a__b",
        "__x",
        "x__",
        "İ_i",
        "a\u00a0b",
        "\ufeffkey",
      ),
      fc.string({ maxLength: 6 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...names),
        fc.array(fc.tuple(key, json), { maxLength: 5 }),
        async (name, entries) => {
          // Built as text so duplicate and __proto__ keys reach the reader as written.
          const kwargs = `{${[["content", "c"], ["id", "m"], ...entries].map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`;
          await expectSameRead(
            `{"m":{"lc":1,"type":"constructor","id":["langchain_core","messages",${JSON.stringify(name)}],"kwargs":${kwargs}}}`,
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it("hands records it cannot prove equal to load(), with the same result", async () => {
    const inner = new HumanMessage({ content: "inner", id: "i" });
    const cases: Record<string, unknown>[] = [
      // A message inside a message's kwargs (revived first, then serialised again by load()).
      { m: new AIMessage({ content: "outer", additional_kwargs: { inner } }) },
      { m: messageRecord("AIMessage", { content: "x", response_metadata: { nested: await recordOf(inner) } }) },
      // Objects with an lc key are escaped on the way out and unwrapped by load().
      { m: new AIMessage({ content: "x", additional_kwargs: { lookalike: { lc: 1, type: "secret", id: ["K"] } } }) },
      { m: new ToolMessage({ content: "x", tool_call_id: "c", artifact: { lc: 2, note: "plain data" } }) },
      { m: messageRecord("HumanMessage", { content: "x", meta: { __lc_escaped__: { lc: 1 } } }) },
      { m: messageRecord("HumanMessage", { content: "x", meta: { __lc_escaped__: { kept: [1] } } }) },
      { m: new HumanMessage({ content: "x", additional_kwargs: { marker: { __lc_escaped__: "a plain value" } } }) },
      // A secret load() cannot resolve (both reject), and one in a non-message.
      { m: messageRecord("HumanMessage", { content: { lc: 1, type: "secret", id: ["NO_SUCH_SECRET"] } }) },
      // Ids that load() resolves another way, or not at all.
      { m: messageRecord("AIMessage", { content: "x" }, ["langchain_core", "messages", "ai"]) },
      { m: messageRecord("ToolMessage", { content: "x", tool_call_id: "c" }, ["langchain_core", "messages", "tool"]) },
      { m: messageRecord("BaseMessage", { content: "x" }) },
      { m: messageRecord("NoSuchMessage", { content: "x" }) },
      { m: messageRecord("AIMessage", { content: "x" }, ["langchain", "messages"]) },
      { m: messageRecord("toString", { content: "x" }) },
      // Kwargs that are not a plain object, and a record with more than toJSON writes.
      { m: { lc: 1, type: "constructor", id: ["langchain_core", "messages", "HumanMessage"], kwargs: ["x"] } },
      { m: { ...messageRecord("HumanMessage", { content: "x" }), extra: { lc: 1 } } },
      { m: { lc: 1, type: "constructor", id: ["langchain_core", "messages", "HumanMessage"] } },
    ];
    for (const value of cases) {
      const [, bytes] = await serde.dumpsTyped(value);
      await expectSameRead(new TextDecoder().decode(bytes));
    }
    expect(revivesSynchronously(await recordOf(new AIMessage({ content: "x", additional_kwargs: { inner } })))).toBe(
      false,
    );
    expect(revivesSynchronously({ ...messageRecord("HumanMessage", { content: "x" }), extra: 1 })).toBe(false);
    expect(revivesSynchronously(messageRecord("HumanMessage", { content: "x" }))).toBe(true);
    // Camel-cased here only when every camel-case rule load() has had agrees: snake-case keys of lower-case words.
    expect(revivesSynchronously(messageRecord("HumanMessage", { content: "x", some_field2: 1 }))).toBe(true);
    for (const key of ["Tool_Calls", "ABC", "a-b", "a__b", "_x", "x_", "a_1", "constructor"]) {
      expect({ key, synchronous: revivesSynchronously(messageRecord("HumanMessage", { [key]: 1 })) }).toEqual({
        key,
        synchronous: false,
      });
    }
  });

  it("leaves numbers a JSON round trip changes, and deep kwargs, to load()", async () => {
    const record = (extra: string) =>
      `{"lc":1,"type":"constructor","id":["langchain_core","messages","HumanMessage"],"kwargs":{"content":"x","n":${extra}}}`;
    for (const number of ["-0", "-0.0", "1e999", "-1e999", "0", "1e-7", "123456789012345678901234567890"]) {
      await expectSameRead(`[${record(number)}]`);
    }
    expect(revivesSynchronously(JSON.parse(record("-0")))).toBe(false);
    expect(revivesSynchronously(JSON.parse(record("1e999")))).toBe(false);
    expect(revivesSynchronously(JSON.parse(record("1")))).toBe(true);
    for (const depth of [10, 31, 32, 49, 50, 60]) {
      await expectSameRead(record(`${"[".repeat(depth)}1${"]".repeat(depth)}`));
    }
  });

  it("sets the class name from the record as load() does", async () => {
    const [, bytes] = await serde.dumpsTyped({ m: new HumanMessage("x") });
    const original = Object.getOwnPropertyDescriptor(HumanMessage, "name");
    Object.defineProperty(HumanMessage, "name", { value: "Renamed" });
    try {
      const revived = (await loadsJson(serde, "json", bytes)) as { m: HumanMessage };
      expect(revived.m).toBeInstanceOf(HumanMessage);
      expect(HumanMessage.name).toBe("HumanMessage");
      expect(Object.getOwnPropertyDescriptor(HumanMessage, "name")).toStrictEqual(original);
    } finally {
      if (original) Object.defineProperty(HumanMessage, "name", original);
    }
  });
});

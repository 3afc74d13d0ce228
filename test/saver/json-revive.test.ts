/**
 * The saver's JSON reviver (src/saver/json-revive.ts) against LangGraph's JsonPlusSerializer: for every value the
 * serializer writes, reading it back through loadsJson gives exactly what serde.loadsTyped gives (same classes,
 * same keys, same undefined entries), including the values it hands back to the serializer.
 */
import { AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { DeltaSnapshot, JsonPlusSerializer } from "@langchain/langgraph-checkpoint";
import fc from "fast-check";
import { isPlainJsonPlus, loadsJson } from "../../src/saver/json-revive.js";

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

  it("hands values with lc 2 records or __proto__ keys to the serializer, with the same result", async () => {
    const values: unknown[] = [
      { gone: undefined, kept: 1 },
      [undefined, 2],
      new Set([1, 2]),
      new Map([["a", 1]]),
      /ab+c/gi,
      new Error("boom"),
      new Uint8Array([1, 2, 3]),
      new DeltaSnapshot([new HumanMessage("snap")]),
      JSON.parse('{"__proto__": {"polluted": true}, "a": 1}'),
      { messages: [new AIMessage("x")], tags: new Set(["t"]) },
    ];
    for (const value of values) {
      const [expected, actual] = await bothWays(value);
      expectSameShape(actual, expected);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
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

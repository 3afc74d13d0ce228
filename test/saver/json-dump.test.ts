/**
 * The saver's JSON writer (src/saver/json-dump.ts) against LangGraph's JsonPlusSerializer: whatever it writes is
 * byte for byte what the serializer writes, and what it cannot prove equal it hands to the serializer.
 */
import { AIMessage, type BaseMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { Send } from "@langchain/langgraph";
import { DeltaSnapshot, JsonPlusSerializer } from "@langchain/langgraph-checkpoint";
import fc from "fast-check";
import { ValueTooLargeError } from "../../src/errors.js";
import { dumpCheckpointValue } from "../../src/saver/dump-checkpoint-value.js";
import { dumpJson } from "../../src/saver/json-dump.js";
import { messageArbitraries } from "./fixtures/message-arbitraries.js";

const serde = new JsonPlusSerializer();
const decoder = new TextDecoder();

async function serializerText(value: unknown): Promise<string> {
  const [type, bytes] = await serde.dumpsTyped(value);
  expect(type).toBe("json");
  return decoder.decode(bytes);
}

/** The fast path takes `value` and writes exactly the serializer's bytes. */
async function expectFastAndEqual(value: unknown): Promise<void> {
  const fast = dumpJson(value);
  expect(fast).toBeDefined();
  expect(decoder.decode(fast)).toBe(await serializerText(value));
}

/** Either the fast path hands `value` over, or it writes the serializer's bytes; returns whether it took it. */
async function expectEqualIfTaken(value: unknown): Promise<boolean> {
  const fast = dumpJson(value);
  if (fast === undefined) return false;
  const [type, bytes] = await serde.dumpsTyped(value);
  expect(type).toBe("json");
  expect(Buffer.from(fast).equals(Buffer.from(bytes))).toBe(true);
  return true;
}

describe("dumpJson", () => {
  it("writes a chat state as the serializer does", async () => {
    const messages = [
      new HumanMessage({ content: "hello", id: "m-1" }),
      new AIMessage({
        content: "calling a tool",
        id: "m-2",
        tool_calls: [{ id: "call-1", name: "lookup", args: { order: "A-1", amount: 12 } }],
        usage_metadata: { input_tokens: 3, output_tokens: 4, total_tokens: 7 },
        response_metadata: { model: "m", finish_reason: "tool_calls" },
      }),
      new ToolMessage({ content: "found", tool_call_id: "call-1", id: "m-3", artifact: { rows: [1, 2] } }),
      new AIMessage({ content: [{ type: "text", text: "done" }], id: "m-4" }),
    ];
    await expectFastAndEqual({ messages, counter: 3, nested: { list: [1, "two", null, { deep: [true] }] } });
    await expectFastAndEqual(messages);
  });

  it("writes undefined, DeltaSnapshot and JSON corner cases as the serializer does", async () => {
    const edited = new HumanMessage({ content: "before", id: "e" });
    edited.content = "after"; // toJSON reads the instance's field
    const values: unknown[] = [
      undefined,
      null,
      0,
      -0,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      1e-7,
      "text with \u2028 separators, emoji \u{1f600} and a lone surrogate \ud800",
      { gone: undefined, kept: 1 },
      [undefined, 2],
      // biome-ignore lint/suspicious/noSparseArray: a hole is written as undefined
      [1, , 3],
      Object.assign(Object.create(null), { a: 1, b: { c: undefined } }),
      { lc: 1, type: "constructor", id: ["not", "a", "message"] },
      new DeltaSnapshot([new HumanMessage("snap")]),
      new DeltaSnapshot(undefined),
      { snapshot: new DeltaSnapshot({ inner: new DeltaSnapshot([undefined, new AIMessage("deep")]) }) },
      JSON.parse('{"a": 1, "__proto__": {"polluted": true}, "b": null}'),
      Object.assign(JSON.parse('{"a": 1, "__proto__": {"polluted": true}}'), { gone: undefined }),
      new AIMessage({ content: "a field left undefined", name: undefined, additional_kwargs: { gap: [undefined] } }),
      new HumanMessage({ content: [{ type: "text", text: "t", extra: undefined }], id: undefined }),
      new AIMessage({ content: "outer", additional_kwargs: { inner: new HumanMessage({ content: "in", id: "i" }) } }),
      edited,
    ];
    for (const value of values) await expectFastAndEqual(value);
  });

  it("matches the serializer on arbitrary messages of every class in state-like values", async () => {
    const { message } = messageArbitraries();
    let taken = 0;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(message, { maxLength: 6 }), message, fc.nat(), async (messages, last, counter) => {
        runs++;
        const value = { messages, counter, nested: { last, list: [last, { inner: messages[0] ?? null }] } };
        if (await expectEqualIfTaken(value)) taken++;
        await expectEqualIfTaken(new DeltaSnapshot(messages));
      }),
      { numRuns: 300 },
    );
    // Only kwargs holding an `lc` key (random dictionary keys, rarely) go to the serializer.
    expect(taken).toBeGreaterThan(runs * 0.9);
  });

  it("matches the serializer on arbitrary values, handing over what it does not take", async () => {
    const anything = fc.anything({
      maxDepth: 4,
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withNullPrototype: true,
      withObjectString: true,
      withSet: true,
      withSparseArray: true,
      withTypedArray: true,
      withUnicodeString: true,
    });
    await fc.assert(
      fc.asyncProperty(anything, async (value) => {
        await expectEqualIfTaken(value);
      }),
      { numRuns: 500 },
    );
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), async (value) => {
        await expectFastAndEqual(value);
      }),
      { numRuns: 300 },
    );
  });

  it("hands the serializer what it cannot prove equal, and the saver still writes the serializer's bytes", async () => {
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    const cyclicMessage = new AIMessage({ content: "x", additional_kwargs: {} });
    cyclicMessage.additional_kwargs.back = cyclicMessage;
    class CustomMessage extends HumanMessage {}
    const ownToJSON = new HumanMessage("x");
    Object.assign(ownToJSON, { toJSON: () => ({ replaced: true }) });
    let deep: unknown = 1;
    for (let i = 0; i < 80; i++) deep = [deep];
    const cases: Record<string, unknown> = {
      bytes: new Uint8Array([1, 2]),
      set: new Set([1]),
      map: new Map([["a", 1]]),
      date: { at: new Date(0) },
      regexp: /x/g,
      error: new Error("boom"),
      bigint: { n: 1n },
      fn: { f: () => 1 },
      symbol: [Symbol("s")],
      circular,
      cyclicMessage,
      deep,
      send: new Send("node", { x: 1 }),
      sendShape: { lg_name: "Send", node: "n", args: 1 },
      toJSON: { toJSON: () => "custom" },
      protoKeyInKwargs: new HumanMessage({ content: "x", additional_kwargs: JSON.parse('{"__proto__": {"p": 1}}') }),
      subclass: new CustomMessage("x"),
      ownToJSON,
      escapedInKwargs: new AIMessage({ content: "x", additional_kwargs: { lookalike: { lc: 1, id: ["K"] } } }),
      markerInKwargs: new HumanMessage({ content: "x", additional_kwargs: { m: { __lc_escaped__: 1 } } }),
      dateInKwargs: new AIMessage({ content: "x", response_metadata: { at: new Date(0) } }),
      snapshotInKwargs: new ToolMessage({ content: "x", tool_call_id: "c", artifact: new DeltaSnapshot([1]) }),
      camelCaseKwarg: new HumanMessage({ content: "x", someField: 1 } as never),
      prototypeKwarg: new HumanMessage({ content: "x", constructor: 1 } as never),
    };
    for (const [name, value] of Object.entries(cases)) {
      expect({ name, fast: dumpJson(value) }).toEqual({ name, fast: undefined });
      if (typeof (value as { n?: unknown }).n === "bigint") continue; // refused by the saver (no stand-in text)
      const [type, bytes] = await dumpCheckpointValue(serde, value, () => name);
      expect({ name, value: [type, decoder.decode(bytes)] }).toEqual({
        name,
        value: [...(await serde.dumpsTyped(value)).slice(0, 1), decoder.decode((await serde.dumpsTyped(value))[1])],
      });
    }
  });

  it("is what dumpCheckpointValue uses for the serializer itself only, with the size limit", async () => {
    const value = { messages: [new HumanMessage({ content: "x".repeat(100), id: "m" })] };
    const [type, bytes] = await dumpCheckpointValue(serde, value, () => "v");
    expect([type, decoder.decode(bytes)]).toEqual(["json", await serializerText(value)]);
    await expect(dumpCheckpointValue(serde, value, () => "the value", 50)).rejects.toBeInstanceOf(ValueTooLargeError);
    class Marking extends JsonPlusSerializer {
      override async dumpsTyped(input: unknown): Promise<[string, Uint8Array]> {
        return ["json", new TextEncoder().encode(JSON.stringify({ marked: input === value }))];
      }
    }
    const [, custom] = await dumpCheckpointValue(new Marking(), value, () => "v");
    expect(decoder.decode(custom)).toBe('{"marked":true}');
  });

  describe("adversarial values (odd own properties, cycles outside the kwargs, shadowed fields)", () => {
    /** Values the walk once wrote differently from the serializer; each must now be written equal or handed over. */
    function oddValues(): Record<string, () => unknown> {
      const sendShape = { lg_name: "Send", node: "n", args: 1 };
      return {
        // The serializer's replacer turns anything with lg_name "Send" into a Send record, arrays included.
        arrayNamedSend: () => Object.assign([1, 2], sendShape),
        messageListNamedSend: () => Object.assign([new HumanMessage("x")], sendShape),
        // ...and the kwargs object toJSON returns, when a message has an lg_name field.
        kwargsNamedSend: () => [new HumanMessage({ content: "x", lg_name: "Send" } as never)],
        kwargsNamedSendInState: () => ({ m: new HumanMessage({ content: "x", lg_name: "Send", node: "n" } as never) }),
        // lc_id is written through the replacer: undefined or a Map in it are not what JSON.stringify writes.
        namespaceWithUndefined: () => ({ m: Object.assign(new HumanMessage("x"), { lc_namespace: ["a", undefined] }) }),
        namespaceWithUndefinedInList: () => [Object.assign(new HumanMessage("x"), { lc_namespace: ["a", undefined] })],
        namespaceWithMap: () => ({ m: Object.assign(new HumanMessage("x"), { lc_namespace: [new Map([[1, 2]])] }) }),
        snapshotWithOwnToJSON: () => Object.assign(new DeltaSnapshot([1]), { toJSON: () => "custom" }),
        // escapeIfNeeded tests `"__lc_escaped__" in obj`, which sees a non-enumerable property too.
        hiddenEscapeMarker: () => {
          const o = Object.defineProperty({ a: 1 }, "__lc_escaped__", { value: 2 });
          return [new AIMessage({ content: "x", additional_kwargs: { o } })];
        },
        // escapeIfNeeded copies kwargs arrays with their own `map` (and its species constructor).
        kwargsArrayOwnMap: () => [
          new AIMessage({ content: "x", additional_kwargs: { a: Object.assign([1, 2], { map: () => "mapped" }) } }),
        ],
        contentArrayOwnMap: () => [
          new AIMessage({
            content: Object.defineProperty([{ type: "text", text: "t" }], "map", { value: () => "m" }) as never,
          }),
        ],
        kwargsArrayOwnConstructor: () => [
          new AIMessage({ content: "x", additional_kwargs: { a: Object.assign([1, 2], { constructor: 1 }) } }),
        ],
        // The walk must not call a method of the value (slice) to copy it.
        arrayOwnSlice: () => Object.assign([undefined, 1], { slice: () => ["evil"] }),
        arrayOwnSliceInObject: () => ({ a: Object.defineProperty([1, undefined], "slice", { value: () => ["evil"] }) }),
        // The serializer's cycle check walks every own property of a message (and of a DeltaSnapshot), not only its
        // kwargs: a cycle it finds there is written "[Circular]" where the kwargs or the state reach it.
        cycleThroughExtraProperty: () => {
          const m = new AIMessage({ content: "x" });
          const p: Record<string, unknown> = {};
          Object.assign(m, { extra: p });
          p.e = m;
          return { m, p };
        },
        cycleSeenByAnotherMessage: () => {
          const m1 = new AIMessage({ content: "x" });
          const p: Record<string, unknown> = {};
          Object.assign(m1, { extra: p });
          p.e = m1;
          return [m1, new HumanMessage({ content: "y", additional_kwargs: { ref: p } })];
        },
        cycleThroughShadowedKwargs: () => {
          const m = new AIMessage({ content: "x", additional_kwargs: {} });
          const old = (m.lc_kwargs as { additional_kwargs: Record<string, unknown> }).additional_kwargs;
          m.additional_kwargs = { fresh: true };
          old.back = m;
          return [m, { old }];
        },
        // A hidden own key of lc_kwargs is no kwargs key: the message's property of that name is not read by the walk.
        cycleThroughPropertyNamedLikeHiddenKwarg: () => {
          const m = new HumanMessage({ content: "x", name: "nm" });
          Object.defineProperty(m.lc_kwargs, "constructor", { value: 1 });
          // lc_id reads this.constructor, which decirc has set to "[Circular]"
          Object.defineProperty(m, "constructor", { value: m, enumerable: true, writable: true, configurable: true });
          return { messages: [m] };
        },
        cycleThroughSnapshotProperty: () => {
          const s = new DeltaSnapshot([1]);
          const p: Record<string, unknown> = {};
          Object.assign(s, { extra: p });
          p.e = s;
          return { s, p };
        },
      };
    }

    it("writes what the serializer writes for each, or hands it over", async () => {
      for (const [name, make] of Object.entries(oddValues())) {
        const fast = dumpJson(make());
        const expected = await serializerText(make());
        expect({ name, fast: fast === undefined ? expected : decoder.decode(fast) }).toEqual({ name, fast: expected });
      }
    });

    it("writes a cached message again when a property JSON.stringify does not list changes what it writes", async () => {
      const edits: Record<string, (m: AIMessage, o: Record<string, unknown>, a: unknown[]) => void> = {
        hiddenLc: (_, o) => Object.defineProperty(o, "lc", { value: 1 }),
        hiddenEscapeMarker: (_, o) => Object.defineProperty(o, "__lc_escaped__", { value: 1 }),
        hiddenToJSON: (_, o) => {
          Object.defineProperty(o, "toJSON", { value: () => "T" });
          Object.defineProperty(o, "lc_serializable", { value: true });
        },
        arrayOwnMap: (_, __, a) => Object.defineProperty(a, "map", { value: () => "M" }),
        arrayOwnConstructor: (_, __, a) => Object.defineProperty(a, "constructor", { value: 1 }),
        kwargsKeyNamedSend: (m) => Object.assign(m.lc_kwargs as object, { lg_name: "Send" }),
        idBecomesText: (m) => Object.defineProperty(m, "lc_id", { value: "langchain_coremessagesAIMessage" }),
      };
      for (const [name, edit] of Object.entries(edits)) {
        const o: Record<string, unknown> = { x: 1 };
        const a: unknown[] = [1, 2];
        const m = new AIMessage({ content: "c", id: "m", additional_kwargs: { o, a } });
        const list = [m];
        dumpJson(list);
        edit(m, o, a);
        const fast = dumpJson(list);
        const expected = await serializerText(list);
        expect({ name, fast: fast === undefined ? expected : decoder.decode(fast) }).toEqual({ name, fast: expected });
      }
    });

    it("matches the serializer after arbitrary odd edits of cached messages (hidden keys, cycles, shadowing)", async () => {
      const { message } = messageArbitraries();
      /** The plain containers in a message's kwargs. */
      const containers = (m: object): (Record<string, unknown> | unknown[])[] => {
        const found: (Record<string, unknown> | unknown[])[] = [];
        const visit = (value: unknown, depth: number) => {
          if (value === null || typeof value !== "object" || depth > 6) return;
          const prototype = Object.getPrototypeOf(value);
          if (prototype !== Array.prototype && prototype !== Object.prototype) return;
          found.push(value as Record<string, unknown>);
          for (const child of Object.values(value)) visit(child, depth + 1);
        };
        for (const key of Object.keys((m as { lc_kwargs: object }).lc_kwargs))
          visit((m as Record<string, unknown>)[key], 0);
        return found;
      };
      type Odd = (
        list: BaseMessage[],
        m: BaseMessage,
        other: BaseMessage,
        c: Record<string, unknown> | unknown[],
      ) => void;
      const hidden = (target: object, key: string, value: unknown) =>
        Object.defineProperty(target, key, { value, configurable: true });
      const edits: Record<string, Odd> = {
        hiddenLc: (_l, _m, _o, c) => hidden(c, "lc", 1),
        hiddenMarker: (_l, _m, _o, c) => hidden(c, "__lc_escaped__", 1),
        hiddenSerializable: (_l, _m, _o, c) => {
          hidden(c, "lc_serializable", true);
          hidden(c, "toJSON", () => "T");
        },
        ownMap: (_l, _m, _o, c) => hidden(c, "map", () => "M"),
        ownConstructor: (_l, _m, _o, c) => hidden(c, "constructor", 1),
        ownSlice: (_l, _m, _o, c) => hidden(c, "slice", () => ["evil"]),
        sendName: (_l, _m, _o, c) => Object.assign(c, { lg_name: "Send", node: "n", args: 1 }),
        kwargsSendName: (_l, m) => Object.assign(m.lc_kwargs, { lg_name: "Send" }),
        oddNamespace: (_l, m) => Object.assign(m, { lc_namespace: ["x", undefined] }),
        extraCycleToSelf: (_l, m, other) => {
          const p: Record<string, unknown> = { e: m };
          Object.assign(m, { extra: p });
          other.additional_kwargs = { ...other.additional_kwargs, ref: p };
        },
        extraCycleToList: (list, m, other) => {
          const p: Record<string, unknown> = { e: list };
          Object.assign(m, { extra: p });
          other.response_metadata = { ...other.response_metadata, ref: p };
        },
        shadowedCycle: (_l, m, other) => {
          const old: Record<string, unknown> = { back: m };
          Object.assign(m.lc_kwargs, { additional_kwargs: old });
          m.additional_kwargs = {};
          other.additional_kwargs = { ...other.additional_kwargs, old };
        },
        snapshotCycle: (_l, m, other) => {
          const s = new DeltaSnapshot(1);
          const p: Record<string, unknown> = { e: s };
          Object.assign(s, { extra: p });
          Object.assign(m, { snap: s });
          other.additional_kwargs = { ...other.additional_kwargs, p };
        },
        innerMessage: (_l, m, other) => {
          other.additional_kwargs = { ...other.additional_kwargs, inner: m };
        },
        undo: (_l, m) => {
          for (const key of ["extra", "snap"]) delete (m as unknown as Record<string, unknown>)[key];
        },
      };
      const edit = fc.record({
        kind: fc.constantFrom(...Object.keys(edits)),
        target: fc.nat(),
        other: fc.nat(),
        container: fc.nat(),
      });
      await fc.assert(
        fc.asyncProperty(
          fc.array(message, { minLength: 1, maxLength: 4 }),
          fc.array(edit, { maxLength: 4 }),
          async (list, odd) => {
            await expectEqualIfTaken(list);
            for (const { kind, target, other, container } of odd) {
              const m = list[target % list.length] as BaseMessage;
              const all = containers(m);
              const c = all.length > 0 ? (all[container % all.length] as Record<string, unknown>) : {};
              (edits[kind] as Odd)(list, m, list[other % list.length] as BaseMessage, c);
              await expectEqualIfTaken(list);
              await expectEqualIfTaken(list);
              await expectEqualIfTaken({ messages: list });
              await expectEqualIfTaken(new DeltaSnapshot(list));
            }
          },
        ),
        { numRuns: 300 },
      );
    });

    it("hands over a huge sparse array at once instead of copying it (the copy took gigabytes)", () => {
      expect(dumpJson(new Array(2 ** 32 - 1))).toBeUndefined();
      expect(dumpJson({ holes: new Array(2 ** 30) })).toBeUndefined();
    });

    it("names a value JSON cannot write even when it holds a sparse array", async () => {
      // biome-ignore lint/suspicious/noSparseArray: the hole is the point
      await expect(dumpCheckpointValue(serde, [, 1n], () => "the value")).rejects.toThrow(/bigint at value\[1\]/);
    });
  });

  describe("lists of messages (each message's JSON kept while it lives)", () => {
    async function expectListWritten(list: unknown[]): Promise<void> {
      const fast = dumpJson(list);
      expect(fast).toBeDefined();
      expect(decoder.decode(fast)).toBe(await serializerText(list));
    }

    it("writes an edited message again, whatever was changed and however deep", async () => {
      const ai = new AIMessage({
        content: "calling",
        id: "a",
        tool_calls: [{ id: "c1", name: "lookup", args: { order: { id: "A-1", lines: [1, 2] } } }],
        additional_kwargs: { nested: { x: 1 } },
        response_metadata: { model: "m" },
      });
      const human = new HumanMessage({ content: "hello", id: "h" });
      const list = [human, ai];
      const order = ai.tool_calls?.[0]?.args.order as { id: string; lines: number[] };
      const edits: (() => void)[] = [
        () => {},
        () => {
          ai.content = "edited";
        },
        () => {
          (ai.additional_kwargs.nested as Record<string, unknown>).x = 2;
        },
        () => {
          order.lines.push(3);
        },
        () => {
          order.id = "A-2";
        },
        () => {
          ai.response_metadata.added = true;
        },
        () => {
          ai.response_metadata.added = undefined;
        },
        () => {
          delete ai.response_metadata.added;
        },
        () => {
          (ai.lc_kwargs as Record<string, unknown>).extra_field = "x";
        },
        () => {
          ai.additional_kwargs.nested = { x: 2 };
        },
        () => {
          ai.additional_kwargs = { nested: { x: 2 } };
        },
        () => {
          human.id = "h2";
        },
        () => {
          human.content = [{ type: "text", text: "blocks" }];
        },
        () => {
          (human.content as { text: string; type: string }[])[0] = { text: "changed", type: "text" };
        },
        () => {
          // key order changed, same values
          const { model, ...rest } = ai.response_metadata;
          ai.response_metadata = { ...rest, model };
        },
      ];
      for (const edit of edits) {
        edit();
        await expectListWritten(list);
        await expectListWritten(list); // and again, from what was kept
      }
      // Data the walk does not take: the serializer writes it, and the saver's bytes are still its bytes.
      ai.response_metadata.at = new Date(0);
      expect(dumpJson(list)).toBeUndefined();
      delete ai.response_metadata.at;
      await expectListWritten(list);
    });

    it("matches the serializer after arbitrary edits of arbitrary messages", async () => {
      const { json, message } = messageArbitraries();
      /** Every plain container in a message's kwargs (and the kwargs object itself). */
      const containers = (m: object): (Record<string, unknown> | unknown[])[] => {
        const found: (Record<string, unknown> | unknown[])[] = [
          (m as { lc_kwargs: Record<string, unknown> }).lc_kwargs,
        ];
        const visit = (value: unknown, depth: number) => {
          if (value === null || typeof value !== "object" || depth > 8) return;
          const prototype = Object.getPrototypeOf(value);
          if (prototype !== Array.prototype && prototype !== Object.prototype && prototype !== null) return;
          found.push(value as Record<string, unknown>);
          for (const child of Object.values(value)) visit(child, depth + 1);
        };
        for (const key of Object.keys(found[0] as object)) visit((m as Record<string, unknown>)[key], 0);
        return found;
      };
      let taken = 0;
      const edit = fc.record({
        target: fc.nat(),
        container: fc.nat(),
        kind: fc.constantFrom("set", "delete", "undefined", "field"),
        key: fc.constantFrom("content", "id", "x", "name", "0", "type"),
        value: json,
      });
      await fc.assert(
        fc.asyncProperty(
          fc.array(message, { minLength: 1, maxLength: 5 }),
          fc.array(edit, { maxLength: 6 }),
          async (list, edits) => {
            if (await expectEqualIfTaken(list)) taken++;
            for (const { target, container, kind, key, value } of edits) {
              const m = list[target % list.length] as object;
              if (kind === "field") {
                // An instance field replaced (toJSON reads the instance first).
                if (key in m) (m as Record<string, unknown>)[key] = value;
              } else {
                const all = containers(m);
                const c = all[container % all.length] as Record<string, unknown>;
                if (kind === "set") c[key] = value;
                else if (kind === "undefined") c[key] = undefined;
                else delete c[key];
              }
              await expectEqualIfTaken(list);
              await expectEqualIfTaken(list);
            }
          },
        ),
        { numRuns: 300 },
      );
      expect(taken).toBeGreaterThan(250);
    });

    it("keeps a bounded amount: past two generations of other messages, an edited list is still written right", async () => {
      const first = [new HumanMessage({ content: "first", id: "f" }), new AIMessage({ content: "reply", id: "r" })];
      await expectListWritten(first);
      // Over 16 Mi characters of other messages' JSON: every generation the first list was kept in has turned over.
      const filler = "w".repeat(4_000);
      for (let round = 0; round < 10; round++) {
        const others = Array.from({ length: 500 }, (_, i) => new AIMessage({ content: filler, id: `o${round}-${i}` }));
        expect(dumpJson(others)).toBeDefined();
      }
      await expectListWritten(first);
      (first[1] as AIMessage).content = "edited after the turnover";
      await expectListWritten(first);
      // A message kept again after the turnover is compared as before.
      await expectListWritten(first);
      (first[0] as HumanMessage).id = "f2";
      await expectListWritten(first);
    });

    it("does not keep large messages, and writes them as the serializer does", async () => {
      const big = new HumanMessage({ content: "x".repeat(20_000), id: "big" });
      const list = [big, new AIMessage("small")];
      await expectListWritten(list);
      big.content = `${"y".repeat(20_000)}`;
      await expectListWritten(list);
    });
  });
});

/**
 * Message tokens (src/saver/message-tokens.ts): expanding what was tokenized gives back the serializer's JSON text
 * exactly, for arbitrary JSON and arbitrary messages of every class, strings that hold the phrases themselves,
 * escaped control characters, unicode and lone surrogates included; the write side (json-dump, the serializer's
 * own path) marks what it tokenized; the read side refuses what it cannot expand.
 */
import { createHash } from "node:crypto";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { DeltaSnapshot, JsonPlusSerializer } from "@langchain/langgraph-checkpoint";
import fc from "fast-check";
import { ValueTooLargeError } from "../../src/errors.js";
import { dumpCheckpointValue } from "../../src/saver/dump-checkpoint-value.js";
import { dumpJsonValue } from "../../src/saver/json-dump.js";
import {
  expand,
  isMessageTokensType,
  MESSAGE_TOKENS_TYPE,
  tokenize,
  tokenizeBytes,
} from "../../src/saver/message-tokens.js";
import { messageArbitraries } from "./fixtures/message-arbitraries.js";

const serde = new JsonPlusSerializer();
const decoder = new TextDecoder();

/** Every phrase of dictionary 1, read back through its codes (one-byte codes, then 0x1F + 0x20..). */
function dictionary1(): string[] {
  const phrases: string[] = [];
  for (let i = 0; ; i++) {
    const code = i < 30 ? Buffer.from([i + 1]) : Buffer.from([0x1f, 0x20 + i - 30]);
    try {
      phrases.push(expand("jt1", code, 1024));
    } catch {
      return phrases;
    }
  }
}

/** Text made of phrases, pieces of them, and characters JSON escapes or encodes in several bytes. */
const trickyText = fc
  .array(
    fc.oneof(
      fc.constantFrom(...dictionary1()),
      fc.constantFrom(...dictionary1()).map((phrase) => phrase.slice(1)),
      fc.string({ unit: "binary", maxLength: 6 }),
      fc.constantFrom("\u0000", "\u0001", "\u001f", "\ud800", "\udfff", "\ud83d\ude00", '"', "\\", "\u2028", "é"),
    ),
    { maxLength: 8 },
  )
  .map((pieces) => pieces.join(""));

function roundTrip(json: string): void {
  const { text, saved } = tokenize(json);
  expect(text.length + saved).toBe(json.length);
  expect(expand(MESSAGE_TOKENS_TYPE, Buffer.from(text, "utf8"), Number.POSITIVE_INFINITY)).toBe(json);
}

describe("message tokens", () => {
  it("dictionary 1 never changes (values written with it must stay readable)", () => {
    const phrases = dictionary1();
    expect(phrases).toHaveLength(51);
    expect(createHash("sha256").update(phrases.join("\n")).digest("hex").slice(0, 16)).toBe("3a5ab75bc4437def");
    for (const phrase of phrases) expect([...phrase].every((char) => char >= " " && char <= "~")).toBe(true);
    expect(new Set(phrases).size).toBe(phrases.length);
  });

  it("round-trips arbitrary JSON text exactly, phrases inside strings, escapes and surrogates included", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), trickyText, fc.array(trickyText, { maxLength: 4 }), (value, a, b) => {
        roundTrip(JSON.stringify(value));
        roundTrip(JSON.stringify(a));
        roundTrip(JSON.stringify({ [a]: b, list: [a, ...b] }));
      }),
      { numRuns: 500 },
    );
    roundTrip(JSON.stringify(dictionary1().join("")));
    roundTrip(dictionary1().join(""));
  });

  it("round-trips the serializer's bytes for arbitrary messages of every class, and takes a third off a chat", async () => {
    const { message } = messageArbitraries();
    await fc.assert(
      fc.asyncProperty(fc.array(message, { maxLength: 6 }), trickyText, async (messages, text) => {
        const value = { messages, text, snapshot: new DeltaSnapshot(messages), gone: undefined };
        for (const item of [value, messages]) {
          const [type, bytes] = await serde.dumpsTyped(item);
          expect(type).toBe("json");
          const json = decoder.decode(bytes);
          roundTrip(json);
          // The serializer's own path: a pass over its bytes.
          const tokenized = tokenizeBytes(bytes);
          const restored = tokenized ? expand(MESSAGE_TOKENS_TYPE, tokenized, Number.POSITIVE_INFINITY) : json;
          expect(restored).toBe(json);
          // json-dump's path: the same text, each message tokenized on its own.
          const dumped = dumpJsonValue(item, true);
          if (dumped === undefined) continue;
          expect(dumped.jsonBytes).toBe(bytes.byteLength);
          const back =
            dumped.type === "json" ? decoder.decode(dumped.bytes) : expand(dumped.type, dumped.bytes, Infinity);
          expect(back).toBe(json);
          if (messages.length > 0) expect(dumped.type).toBe(MESSAGE_TOKENS_TYPE);
        }
      }),
      { numRuns: 300 },
    );
    const chat = [];
    for (let i = 0; i < 20; i++) {
      chat.push(new HumanMessage({ content: "q".repeat(200), id: `h-${i}` }));
      chat.push(new AIMessage({ content: "a".repeat(400), id: `a-${i}` }));
    }
    const dumped = dumpJsonValue(chat, true);
    expect(dumped?.type).toBe(MESSAGE_TOKENS_TYPE);
    expect((dumped?.bytes.byteLength ?? 0) / (dumped?.jsonBytes ?? 1)).toBeLessThan(0.75);
  });

  it("reuses a message's tokens while it is unchanged, and writes an edited message again", () => {
    const message = new HumanMessage({ content: "first", id: "m" });
    const once = dumpJsonValue([message], true);
    expect(dumpJsonValue([message], true)?.bytes).toEqual(once?.bytes);
    message.content = 'second "}} \u0001';
    const edited = dumpJsonValue([message], true);
    expect(expand(MESSAGE_TOKENS_TYPE, edited?.bytes as Uint8Array, Infinity)).toBe(JSON.stringify([message.toJSON()]));
  });

  it("leaves values without messages as json, and refuses what it cannot expand", () => {
    expect(dumpJsonValue({ a: [1, "x"], name: "n" }, true)?.type).toBe("json");
    expect(dumpJsonValue([new HumanMessage("hi")], false)?.type).toBe("json");
    expect(tokenizeBytes(Buffer.from('{"lc":1}\u0001'))).toBeUndefined();
    expect(isMessageTokensType("jt1")).toBe(true);
    expect(isMessageTokensType("jt12")).toBe(true);
    for (const type of ["json", "bytes", "undefined", "json+aes256gcm", "jt", "jtx", "Jt1"]) {
      expect(isMessageTokensType(type)).toBe(false);
    }
    expect(() => expand("jt2", Buffer.from("[]"), Infinity)).toThrow(/jt2.*does not know/);
    expect(() => expand("jt1", Buffer.from([0x5b, 0x00, 0x5d]), Infinity)).toThrow(/no message-token code/);
    expect(() => expand("jt1", Buffer.from([0x5b, 0x1f, 0x7e]), Infinity)).toThrow(/no message-token code/);
    expect(() => expand("jt1", Buffer.from([0x5b, 0x1f]), Infinity)).toThrow(/no message-token code/);
    expect(() => expand("jt1", Buffer.alloc(1000, 1), 10_000)).toThrow(/more than maxValueBytes/);
  });

  it("dumpCheckpointValue tokenizes only for the plain serializer when asked, and limits the serializer's size", async () => {
    const messages = [new HumanMessage({ content: "hello", id: "h" }), new AIMessage({ content: "hi", id: "a" })];
    const [type, bytes] = await dumpCheckpointValue(serde, messages, () => "v", Infinity, true);
    expect(type).toBe(MESSAGE_TOKENS_TYPE);
    expect(expand(type, bytes, Infinity)).toBe(decoder.decode((await serde.dumpsTyped(messages))[1]));
    expect((await dumpCheckpointValue(serde, messages, () => "v", Infinity, false))[0]).toBe("json");
    class Custom extends JsonPlusSerializer {}
    expect((await dumpCheckpointValue(new Custom(), messages, () => "v", Infinity, true))[0]).toBe("json");
    // A value the fast path hands over (a Map) is tokenized after the serializer wrote it.
    const withMap = { messages, map: new Map([["k", 1]]) };
    const [mapType, mapBytes] = await dumpCheckpointValue(serde, withMap, () => "v", Infinity, true);
    expect(mapType).toBe(MESSAGE_TOKENS_TYPE);
    expect(expand(mapType, mapBytes, Infinity)).toBe(decoder.decode((await serde.dumpsTyped(withMap))[1]));
    // The limit applies to the serializer's bytes, not the smaller tokenized ones.
    const size = (await serde.dumpsTyped(messages))[1].byteLength;
    await expect(dumpCheckpointValue(serde, messages, () => "v", size - 1, true)).rejects.toBeInstanceOf(
      ValueTooLargeError,
    );
    await expect(dumpCheckpointValue(serde, messages, () => "v", size, true)).resolves.toBeDefined();
  });
});

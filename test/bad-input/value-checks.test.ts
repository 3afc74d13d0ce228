import { JsonPlusSerializer } from "@langchain/langgraph-checkpoint";
import { InvalidInputError } from "../../src/errors.js";
import { dumpCheckpointValue, MAX_CHECKPOINT_VALUE_DEPTH } from "../../src/saver/dump-checkpoint-value.js";
import { jsonViolation, requireJsonValue } from "../../src/store/json-value.js";
import { hasLoneSurrogate, nestingDepth } from "../../src/value-checks.js";
import { nested } from "./inputs.js";

describe("jsonViolation: what JSON would silently change", () => {
  it("accepts plain JSON, and undefined object properties (they read back as absent)", () => {
    expect(jsonViolation({ a: [1, "x", null, true, { b: -2.5 }], c: undefined, d: {} })).toBeUndefined();
    expect(jsonViolation(Object.assign(Object.create(null), { a: 1 }))).toBeUndefined();
    const shared = { x: 1 };
    expect(jsonViolation({ a: shared, b: shared })).toBeUndefined();
  });

  it.each([
    [{ n: Number.NaN }, "NaN at value.n"],
    [{ n: [1, Number.POSITIVE_INFINITY] }, "Infinity at value.n[1]"],
    [{ list: [undefined] }, "undefined at value.list[0] (JSON would turn it into null)"],
    [{ when: new Date(0) }, "a Date at value.when"],
    [{ m: new Map() }, "a Map at value.m"],
    [{ s: new Set() }, "a Set at value.s"],
    [{ bytes: new Uint8Array(2) }, "a Uint8Array at value.bytes"],
    [{ f: () => 1 }, "a function at value.f"],
    [{ big: 1n }, "a bigint at value.big"],
    [{ "odd key": { sym: Symbol("s") } }, 'a symbol at value["odd key"].sym'],
    [{ z: -0 }, "-0 at value.z (JSON would turn it into 0)"],
    [{ a: [{ [Symbol("s")]: 1 }] }, "a symbol-keyed property Symbol(s) at value.a[0] (JSON would drop it)"],
  ])("refuses %o (%s)", (value, where) => {
    expect(jsonViolation(value)).toBe(where);
    expect(() => requireJsonValue(value, "Item")).toThrow(InvalidInputError);
    expect(() => requireJsonValue(value, "Item")).toThrow(where);
  });

  it("walks any depth without recursion", () => {
    expect(jsonViolation(nested(100_000, Number.NaN))).toMatch(/^NaN at value(\[0\]|\.d)+$/);
  });
});

describe("checkpoint values: refused before the write when the serializer could not read them back", () => {
  const serde = new JsonPlusSerializer();

  it("refuses a BigInt anywhere in the value, for which the serializer writes a stand-in text", async () => {
    for (const [value, where] of [
      [{ amount: { cents: 1999n } }, "value.amount.cents"],
      [5n, "value"],
      [new Map([["k", [1n]]]), "value.k[0]"],
    ] as const) {
      await expect(dumpCheckpointValue(serde, value, () => "channel x")).rejects.toThrow(InvalidInputError);
      await expect(dumpCheckpointValue(serde, value, () => "channel x")).rejects.toThrow(`a bigint at ${where}`);
    }
    // a toJSON that throws: the serializer's stand-in again, refused with JSON's own message
    const throwing = {
      toJSON: () => {
        throw new Error("no JSON for me");
      },
    };
    await expect(dumpCheckpointValue(serde, { throwing }, () => "channel x")).rejects.toThrow(/no JSON for me/);
  });

  it("refuses a bare function or symbol, which the serializer writes as nothing", async () => {
    await expect(
      dumpCheckpointValue(
        serde,
        () => 1,
        () => "channel x",
      ),
    ).rejects.toThrow(/channel x is a function/);
    await expect(dumpCheckpointValue(serde, Symbol("s"), () => "channel x")).rejects.toThrow(InvalidInputError);
  });

  it(`refuses nesting deeper than ${MAX_CHECKPOINT_VALUE_DEPTH} levels and accepts it up to there`, async () => {
    await expect(
      dumpCheckpointValue(serde, nested(MAX_CHECKPOINT_VALUE_DEPTH - 1, 1), () => "v"),
    ).resolves.toHaveLength(2);
    await expect(dumpCheckpointValue(serde, nested(MAX_CHECKPOINT_VALUE_DEPTH + 1, 1), () => "v")).rejects.toThrow(
      /nested more than 500 levels deep/,
    );
    await expect(dumpCheckpointValue(serde, nested(100_000, 1), () => "v")).rejects.toThrow(InvalidInputError);
  });

  it("measures depth iteratively, Maps and Sets included", () => {
    expect(nestingDepth({ a: { b: [1] } }, 10)).toBe(3);
    expect(nestingDepth(new Map([["k", new Set([[1]])]]), 10)).toBe(3);
    expect(nestingDepth(nested(1_000_000, 1), 50)).toBe(51);
  });

  it("spots lone surrogates, which have no UTF-8 form", () => {
    expect(hasLoneSurrogate("a\uD800")).toBe(true);
    expect(hasLoneSurrogate("\uDC00b")).toBe(true);
    expect(hasLoneSurrogate("🦜 é")).toBe(false);
  });
});

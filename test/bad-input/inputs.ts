/**
 * Hostile inputs for the property tests: ids, names and values that are empty, huge, unicode, binary, deeply nested,
 * full of the characters key schemes trip on (`{ } : * |`, `%`, NUL, newline), or not strings at all; plus a
 * guard that turns a hang into a failure.
 */
import fc from "fast-check";
import { LangGraphRedisError } from "../../src/index.js";

const trickyPieces = [
  "",
  " ",
  "{",
  "}",
  "{}",
  "{a}",
  ":",
  "::",
  "*",
  "|",
  "%",
  "%7B",
  "%00",
  "\0",
  "\n",
  "\r\n",
  "\t",
  "é",
  "日本語",
  "🦜",
  "👩‍👩‍👧",
  "\u{10FFFF}",
  "\uFFFD",
  "\u202E",
  "a",
  "1",
  "langgraph",
  ".",
];

/** Strings made of the pieces above, graphemes, arbitrary code units (lone surrogates included) or all of it huge. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.constantFrom(...trickyPieces), { maxLength: 6 }).map((p) => p.join("")) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom("x".repeat(10_000), "{:}".repeat(3_000), "🦜".repeat(2_000), "\uD800") },
);

/** Things that are not strings where a string belongs. */
export const notAString: fc.Arbitrary<unknown> = fc.constantFrom(
  undefined,
  null,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  0,
  42,
  -1.5,
  true,
  {},
  [],
  ["a"],
  { toString: () => "sneaky" },
);

/** An id or name: mostly hostile strings, sometimes not a string at all. */
export const hostileId: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: hostileString },
  { weight: 1, arbitrary: notAString },
);

/** A nested array `depth` levels deep around `leaf`. */
export function nested(depth: number, leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { d: value };
  return value;
}

/** Leaves that JSON cannot represent as they are. */
export const nonJsonLeaf: fc.Arbitrary<unknown> = fc.constantFrom(
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  undefined,
  new Date(0),
  new Uint8Array([0, 1, 255]),
  new Map([["k", 1]]),
  new Set([1]),
  () => 1,
  Symbol("s"),
  10n,
);

/** JSON leaves, with hostile strings and extreme numbers. */
export const jsonLeaf: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.constantFrom(0, -0, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, 1e308, true, false, null),
);

/** A value: JSON trees (some deep, some with hostile keys), and trees with a non-JSON leaf somewhere. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  {
    weight: 3,
    arbitrary: fc.dictionary(
      fc.oneof(hostileString, fc.constantFrom("__proto__", "constructor", "lc", "type")),
      jsonLeaf,
      {
        maxKeys: 4,
      },
    ),
  },
  { weight: 2, arbitrary: fc.dictionary(fc.string({ maxLength: 3 }), fc.oneof(jsonLeaf, nonJsonLeaf), { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(200, 1_000).map((depth) => ({ deep: nested(depth, "bottom") })) },
  { weight: 1, arbitrary: fc.constant({ huge: "x".repeat(200_000), binary: "\0\x01\xff" }) },
);

/** An error the library names (its own classes, or LangGraph's InvalidNamespaceError for store namespaces). */
export function isNamedError(error: unknown): boolean {
  return error instanceof LangGraphRedisError || (error instanceof Error && error.name === "InvalidNamespaceError");
}

/** Settles `promise`, or fails with "hung" after `ms` (a hang is a bug, not a slow machine: ops take ~1 ms). */
export async function settle<T>(
  promise: Promise<T>,
  ms = 20_000,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`operation hung for ${ms} ms`)), ms);
  });
  try {
    return { ok: true, value: await Promise.race([promise, hung]) };
  } catch (error) {
    if (error instanceof Error && error.message.startsWith("operation hung")) throw error;
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}

import fc from "fast-check";
import { decodeKeyPart, encodeKeyPart, hashTag } from "../../src/keys.js";

describe("key parts", () => {
  it("round-trip any string, and never contain braces or colons once encoded", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (part) => {
        const encoded = encodeKeyPart(part);
        expect(encoded).not.toMatch(/[{}:]/);
        expect(decodeKeyPart(encoded)).toBe(part);
      }),
      { numRuns: 2000 },
    );
  });

  it("keep distinct inputs distinct", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        fc.pre(a !== b);
        expect(encodeKeyPart(a)).not.toBe(encodeKeyPart(b));
      }),
    );
  });

  it("build a hash tag with exactly one opening and one closing brace", () => {
    const tag = hashTag("tenant:a", "{thread}");
    expect(tag).toBe("{tenant%3Aa:%7Bthread%7D}");
  });
});

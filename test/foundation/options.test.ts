import { z } from "zod";
import { InvalidOptionError, LangGraphRedisError } from "../../src/errors.js";
import { durationMsSchema, keyPrefixSchema, parseOptions } from "../../src/options.js";

const schema = z.object({ keyPrefix: keyPrefixSchema, ttlMs: durationMsSchema.optional() }).strict();

describe("parseOptions", () => {
  it("applies defaults", () => {
    expect(parseOptions(schema, undefined, "Thing")).toEqual({ keyPrefix: "lgr" });
  });

  it("names the option, echoes the value and says what is allowed", () => {
    let error: unknown;
    try {
      parseOptions(schema, { ttlMs: -5 }, "Thing");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toBeInstanceOf(LangGraphRedisError);
    const e = error as InvalidOptionError;
    expect(e.name).toBe("InvalidOptionError");
    expect(e.option).toBe("Thing.ttlMs");
    expect(e.received).toBe(-5);
    expect(e.message).toMatch(/Invalid option `Thing\.ttlMs`.*received -5/);
  });

  it("rejects a key prefix that would open a hash tag", () => {
    expect(() => parseOptions(schema, { keyPrefix: "a{b" }, "Thing")).toThrow(/keyPrefix.*without braces.*"a\{b"/);
  });

  it("rejects unknown options", () => {
    expect(() => parseOptions(schema, { tllMs: 5 }, "Thing")).toThrow(InvalidOptionError);
  });
});

/**
 * maxValueBytes: a value is accepted exactly when its JSON is at most that many UTF-8 bytes (multi-byte characters
 * counted as bytes, not as characters); a larger one throws ValueTooLargeError with the sizes, before anything is
 * written, also when it rides in a batch with valid writes.
 */
import fc from "fast-check";
import { RedisStore, ValueTooLargeError } from "../../src/index.js";
import { recordCounts } from "../helpers/counts.js";
import { targets, testPrefix } from "../helpers/redis.js";

const text = fc.string({ unit: fc.constantFrom("a", "é", "日", "🦜", "\\", '"', "\n"), maxLength: 120 });

describe.each(targets)("maxValueBytes ($name)", ({ connect }) => {
  it("accepts up to the limit in UTF-8 bytes and refuses beyond it before writing", async (context) => {
    const client = connect();
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 8, max: 400 }), text, async (maxValueBytes, body) => {
        tried++;
        const store = new RedisStore({ client, keyPrefix: testPrefix("limit"), maxValueBytes });
        const value = { body };
        const bytes = Buffer.byteLength(JSON.stringify(value), "utf8");
        const put = store.put(["limits"], "item", value);
        if (bytes <= maxValueBytes) {
          await put;
          expect((await store.get(["limits"], "item"))?.value).toEqual(value);
          return;
        }
        const error = await put.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ValueTooLargeError);
        expect(error).toMatchObject({ bytes, maxBytes: maxValueBytes });
        expect((error as Error).message).toMatch(/nothing was written/);
        // a batch with a valid write beside the oversized one writes neither
        await expect(
          store.batch([
            { namespace: ["limits"], key: "small", value: {} },
            { namespace: ["limits"], key: "item", value },
          ]),
        ).rejects.toThrow(ValueTooLargeError);
        expect(await store.get(["limits"], "item")).toBeNull();
        expect(await store.get(["limits"], "small")).toBeNull();
        expect(await store.history(["limits"], "item")).toEqual([]);
      }),
      { numRuns: 60 },
    );
    recordCounts(context, { inputsTried: tried });
  });
});

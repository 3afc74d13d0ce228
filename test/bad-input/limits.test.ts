/**
 * maxValueBytes: a value is accepted exactly when its serialised form is at most that many bytes (multi-byte
 * characters counted as bytes, not as characters); a larger one throws ValueTooLargeError with the sizes, before
 * anything is written, also when it rides in a store batch with valid writes or in a checkpoint with small channels.
 */
import fc from "fast-check";
import { RedisSaver, RedisStore, ValueTooLargeError } from "../../src/index.js";
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

  it("RedisSaver: a channel value or pending write over the limit is refused before writing", async (context) => {
    const client = connect();
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 400, max: 1200 }), text, async (maxValueBytes, body) => {
        tried++;
        const saver = new RedisSaver({ client, keyPrefix: testPrefix("limit"), maxValueBytes });
        const bytes = Buffer.byteLength(JSON.stringify(body), "utf8");
        const checkpoint = {
          v: 4,
          id: "1f000000-0000-6000-8000-000000000001",
          ts: "2025-01-01T00:00:00.000Z",
          channel_values: { small: "s", body },
          channel_versions: { small: 1, body: 1 },
          versions_seen: {},
        };
        const config = { configurable: { thread_id: "t", checkpoint_ns: "" } };
        const put = saver.put(config, checkpoint, { source: "input", step: -1, parents: {} }, { small: 1, body: 1 });
        if (bytes <= maxValueBytes) {
          const written = await put;
          expect((await saver.getTuple(written))?.checkpoint.channel_values).toEqual({ small: "s", body });
          const writes = saver.putWrites(written, [["body", body]], "task");
          await expect(writes).resolves.toBeUndefined();
          return;
        }
        const error = await put.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ValueTooLargeError);
        expect(error).toMatchObject({ bytes, maxBytes: maxValueBytes });
        expect((error as Error).message).toMatch(/channel "body"/);
        expect(await saver.getTuple({ configurable: { thread_id: "t" } })).toBeUndefined();
      }),
      { numRuns: 60 },
    );
    recordCounts(context, { inputsTried: tried });
  });
});

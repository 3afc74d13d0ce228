/**
 * Thread ids and namespaces with the characters that break naive key schemes (`:` `{` `}` `*` `|`, spaces,
 * `%`, NUL, newlines, unicode) round-trip exactly through put, putWrites, getTuple and list, and never leak
 * into another thread or namespace.
 */
import fc from "fast-check";
import { InvalidConfigError, RedisSaver } from "../../src/index.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { collect, inputMetadata, makeCheckpoint } from "./saver-helpers.js";

const tricky = fc.constantFrom(":", "{", "}", "*", "|", " ", "%", "%7B", "\0", "\n", "é", "日本", "🦜", "a", "1");
/** Well-formed strings biased towards the tricky characters. */
const trickyString = (minLength: number) =>
  fc
    .array(fc.oneof(tricky, fc.string({ unit: "grapheme", maxLength: 3 })), { minLength, maxLength: 8 })
    .map((parts) => parts.join(""))
    .filter((s) => s.length >= minLength);

describe.each(targets)("ids and namespaces round-trip ($name)", ({ connect }) => {
  let saver: RedisSaver;

  beforeAll(() => {
    saver = new RedisSaver({ client: connect(), keyPrefix: testPrefix("prop") });
  });

  it("for put, putWrites, getTuple and list", async () => {
    await fc.assert(
      fc.asyncProperty(trickyString(1), trickyString(0), trickyString(1), async (threadId, ns, taskId) => {
        const checkpoint = makeCheckpoint({ value: `${threadId}/${ns}` });
        const config = await saver.put(
          { configurable: { thread_id: threadId, checkpoint_ns: ns } },
          checkpoint,
          inputMetadata,
          checkpoint.channel_versions,
        );
        expect(config.configurable).toEqual({ thread_id: threadId, checkpoint_ns: ns, checkpoint_id: checkpoint.id });
        await saver.putWrites(config, [["value", taskId]], taskId, `path|${ns}`);

        const tuple = await saver.getTuple({ configurable: { thread_id: threadId, checkpoint_ns: ns } });
        expect(tuple?.config.configurable).toEqual(config.configurable);
        expect(tuple?.checkpoint.channel_values).toEqual({ value: `${threadId}/${ns}` });
        expect(tuple?.pendingWrites).toEqual([[taskId, "value", taskId]]);

        const listed = await collect(saver.list({ configurable: { thread_id: threadId, checkpoint_ns: ns } }));
        expect(listed.map((t) => t.config.configurable)).toContainEqual(config.configurable);
        for (const t of listed) {
          expect(t.config.configurable?.thread_id).toBe(threadId);
          expect(t.config.configurable?.checkpoint_ns).toBe(ns);
        }
        const everyNamespace = await collect(saver.list({ configurable: { thread_id: threadId } }));
        expect(everyNamespace.map((t) => t.config.configurable)).toContainEqual(config.configurable);
      }),
      { numRuns: 60 },
    );
  });

  it("keeps threads whose ids differ only in escaped characters apart", async () => {
    const ids = ["a:b", "a%3Ab", "a{b}", "a%7Bb%7D", "a\0b", "a%00b", "a b", "a|b", "a*b"];
    for (const threadId of ids) {
      const checkpoint = makeCheckpoint({ owner: threadId });
      await saver.put(
        { configurable: { thread_id: threadId } },
        checkpoint,
        inputMetadata,
        checkpoint.channel_versions,
      );
    }
    for (const threadId of ids) {
      const tuple = await saver.getTuple({ configurable: { thread_id: threadId } });
      expect(tuple?.checkpoint.channel_values).toEqual({ owner: threadId });
      const listed = await collect(saver.list({ configurable: { thread_id: threadId } }));
      expect(listed).toHaveLength(1);
    }
  });

  it("rejects ids with a lone UTF-16 surrogate instead of storing them lossily", async () => {
    const checkpoint = makeCheckpoint();
    await expect(
      saver.put({ configurable: { thread_id: "bad\uD800" } }, checkpoint, inputMetadata, {}),
    ).rejects.toThrow(InvalidConfigError);
    await expect(saver.getTuple({ configurable: { thread_id: "t", checkpoint_ns: "\uDC00" } })).rejects.toThrow(
      InvalidConfigError,
    );
  });
});

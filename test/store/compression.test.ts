/**
 * RedisStore's `compression` option: item values and history entries of at least minBytes are stored deflated
 * (read raw to check), every read path returns the plain value, items written without compression stay readable
 * beside compressed ones, a value that would inflate beyond maxValueBytes is refused with DecompressionLimitError,
 * and compression composes with encryption (compressed, then sealed), filter indexes, vector search and the audit
 * trail (test/audit/outbox.test.ts).
 */
import { randomBytes } from "node:crypto";
import { deflateRawSync } from "node:zlib";
import { maybeCompressSync } from "../../src/compression.js";
import {
  CorruptDataError,
  DecompressionLimitError,
  InvalidOptionError,
  PlaintextRecordError,
  RedisStore,
} from "../../src/index.js";
import { storeItemKeys, storeNamespaceKeys } from "../../src/keys.js";
import { KEY_1, keysContaining } from "../encryption/helpers.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { HashEmbeddings } from "./helpers.js";

const WORDS = "the agent noted that customer prefers morning calls about invoice renewal and shipping options".split(
  " ",
);

/** A JSON object of about `bytes` bytes of word text, like a memory an agent keeps. */
function note(bytes: number, seed = 1): Record<string, unknown> {
  const words: string[] = [];
  let length = 0;
  let s = seed;
  while (length < bytes) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const word = WORDS[s % WORDS.length] as string;
    words.push(word);
    length += word.length + 1;
  }
  return { kind: "note", seed, text: words.join(" ") };
}

/** The value bytes of a raw record or history entry (after its header line). */
function body(raw: Buffer): Buffer {
  return raw.subarray(raw.indexOf(0x0a) + 1);
}

const enc = { keys: { k1: KEY_1 }, currentKeyId: "k1" };

describe.each(targets)("RedisStore compression ($name)", ({ connect }) => {
  it("stores large values and their history deflated; get, getWithVersion, search and history return them", async () => {
    const client = connect();
    const keyPrefix = testPrefix("cmp");
    const store = new RedisStore({ client, keyPrefix, compression: { minBytes: 1024 } });
    const first = note(3000, 1);
    const second = note(3000, 2);
    await store.put(["mem", "u1"], "profile", first);
    await store.put(["mem", "u1"], "profile", second);

    const items = storeNamespaceKeys(keyPrefix, ["mem", "u1"]).items;
    const raw = (await client.hgetBuffer(items, "profile")) as Buffer;
    const json = Buffer.byteLength(JSON.stringify(second));
    expect(body(raw)[0]).toBe(0x01);
    expect(body(raw).length).toBeLessThan(json / 2);
    const history = storeItemKeys(keyPrefix, ["mem", "u1"], "profile").history;
    const entries = await client.zrangeBuffer(history, "0", "-1");
    expect(entries.map((e) => body(e)[0])).toEqual([0x01, 0x01]);

    expect((await store.get(["mem", "u1"], "profile"))?.value).toEqual(second);
    const versioned = await store.getWithVersion(["mem", "u1"], "profile");
    expect([versioned?.version, versioned?.value]).toEqual([2, second]);
    expect((await store.search(["mem"])).map((h) => h.value)).toEqual([second]);
    expect((await store.history(["mem", "u1"], "profile")).map((e) => e.value)).toEqual([second, first]);
    await store.delete(["mem", "u1"], "profile");
    expect((await store.history(["mem", "u1"], "profile")).map((e) => e.op)).toEqual(["delete", "put", "put"]);
  });

  it("leaves values under minBytes as JSON; deflate output that saves less than an eighth is not kept", async () => {
    const client = connect();
    const keyPrefix = testPrefix("cmpth");
    const store = new RedisStore({ client, keyPrefix, compression: { minBytes: 1024 } });
    const small = note(900, 3);
    await store.put(["t"], "small", small);
    await store.put(["t"], "large", note(1200, 4));
    const items = storeNamespaceKeys(keyPrefix, ["t"]).items;
    const firstByte = async (key: string) => body((await client.hgetBuffer(items, key)) as Buffer)[0];
    expect(await firstByte("small")).toBe("{".charCodeAt(0));
    expect(await firstByte("large")).toBe(0x01);
    expect((await store.get(["t"], "small"))?.value).toEqual(small);
    expect((await store.get(["t"], "large"))?.value).toEqual(note(1200, 4));
    // the rule the store shares with the saver: random bytes do not shrink, so they stay as they are
    expect(maybeCompressSync({ minBytes: 64, level: 6 }, randomBytes(4096))).toBeUndefined();
    expect(maybeCompressSync({ minBytes: 64, level: 6 }, Buffer.from(JSON.stringify(note(4096))))).toBeInstanceOf(
      Buffer,
    );
  });

  it("reads items written without compression beside compressed ones, and compressed ones with it off", async () => {
    const client = connect();
    const keyPrefix = testPrefix("cmpmix");
    const before = new RedisStore({ client, keyPrefix });
    const after = new RedisStore({ client, keyPrefix, compression: { minBytes: 1024 } });
    await before.put(["mix"], "old", note(3000, 5));
    await after.put(["mix"], "new", note(3000, 6));
    await after.put(["mix"], "old", note(3000, 7));
    const items = storeNamespaceKeys(keyPrefix, ["mix"]).items;
    expect(body((await client.hgetBuffer(items, "new")) as Buffer)[0]).toBe(0x01);

    for (const store of [before, after]) {
      expect((await store.search(["mix"])).map((h) => [h.key, h.value.seed])).toEqual([
        ["old", 7],
        ["new", 6],
      ]);
      expect((await store.history(["mix"], "old")).map((e) => e.value?.seed)).toEqual([7, 5]);
      expect((await store.get(["mix"], "new"))?.value).toEqual(note(3000, 6));
    }
  });

  it("refuses a value that would inflate beyond maxValueBytes with DecompressionLimitError", async () => {
    const client = connect();
    const keyPrefix = testPrefix("cmpbomb");
    const big = new RedisStore({ client, keyPrefix, compression: { minBytes: 1024 }, maxValueBytes: 1024 * 1024 });
    await big.put(["b"], "large", note(200_000, 8));
    const small = new RedisStore({ client, keyPrefix, maxValueBytes: 64 * 1024 });
    const items = storeNamespaceKeys(keyPrefix, ["b"]).items;
    await expect(small.get(["b"], "large")).rejects.toThrow(DecompressionLimitError);
    await expect(small.get(["b"], "large")).rejects.toMatchObject({ key: items, maxBytes: 64 * 1024 });
    await expect(small.history(["b"], "large")).rejects.toThrow(DecompressionLimitError);
    await expect(small.search(["b"])).rejects.toThrow(DecompressionLimitError);

    // planted: 64 MiB of zeros deflate to about 64 KiB; reading it must not inflate them
    const bomb = Buffer.concat([
      Buffer.from("1:1:1:::\n\x01", "latin1"),
      deflateRawSync(Buffer.alloc(64 * 1024 * 1024)),
    ]);
    await client.hset(items, "bomb", bomb);
    const error = await big.get(["b"], "bomb").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecompressionLimitError);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toContain('Item ["b","bomb"]');
    expect((await big.get(["b"], "large"))?.value).toEqual(note(200_000, 8));
  });

  it("with encryption: compresses, then seals; nothing readable reaches Redis and every read path opens it", async () => {
    const client = connect();
    const keyPrefix = testPrefix("cmpenc");
    const store = new RedisStore({ client, keyPrefix, compression: { minBytes: 1024 }, encryption: enc });
    const value = { ...note(3000, 9), secret: "iban-DE89370400440532013000" };
    await store.put(["acct"], "a", value);
    await store.put(["acct"], "b", { secret: "short" });
    const items = storeNamespaceKeys(keyPrefix, ["acct"]).items;
    const a = body((await client.hgetBuffer(items, "a")) as Buffer);
    expect(a.subarray(0, 3).toString("latin1")).toBe("LGE");
    expect(a.length).toBeLessThan(Buffer.byteLength(JSON.stringify(value)) / 2);
    expect(body((await client.hgetBuffer(items, "b")) as Buffer)[0]).toBe("~".charCodeAt(0));
    expect(await keysContaining(client, keyPrefix, "DE89")).toEqual([]);
    expect(await keysContaining(client, keyPrefix, "customer")).toEqual([]);

    expect((await store.get(["acct"], "a"))?.value).toEqual(value);
    expect((await store.history(["acct"], "a")).map((e) => e.value)).toEqual([value]);
    expect((await store.search(["acct"])).map((h) => h.key)).toEqual(["a", "b"]);
    const noCompression = new RedisStore({ client, keyPrefix, encryption: enc });
    expect((await noCompression.get(["acct"], "a"))?.value).toEqual(value);
    await expect(new RedisStore({ client, keyPrefix }).get(["acct"], "a")).rejects.toThrow(CorruptDataError);

    // requireEncrypted refuses a compressed plaintext item planted beside the sealed ones
    await new RedisStore({ client, keyPrefix, compression: { minBytes: 1024 } }).put(["acct"], "plain", note(3000));
    const strict = new RedisStore({ client, keyPrefix, encryption: { ...enc, requireEncrypted: true } });
    await expect(strict.get(["acct"], "plain")).rejects.toThrow(PlaintextRecordError);
    expect((await strict.get(["acct"], "a"))?.value).toEqual(value);
  });

  it("filter indexes take their scores from the plain value; search and reindex read compressed items", async () => {
    const client = connect();
    const keyPrefix = testPrefix("cmpfx");
    await new RedisStore({ client, keyPrefix, compression: { minBytes: 1024 } }).put(["tasks"], "old", {
      ...note(3000, 10),
      status: "open",
      priority: 1,
    });
    const store = new RedisStore({
      client,
      keyPrefix,
      compression: { minBytes: 1024 },
      filterIndex: { fields: { status: "string", priority: "number" } },
    });
    for (let i = 0; i < 6; i++) {
      await store.put(["tasks"], `t${i}`, { ...note(3000, 20 + i), status: i % 2 ? "done" : "open", priority: i });
    }
    expect((await store.reindex()).indexed).toBe(7);
    const hits = await store.search(["tasks"], { filter: { status: "open", priority: { $gte: 1 } } });
    expect(hits.map((h) => [h.key, h.value.seed])).toEqual([
      ["old", 10],
      ["t2", 22],
      ["t4", 24],
    ]);
    const items = storeNamespaceKeys(keyPrefix, ["tasks"]).items;
    expect(body((await client.hgetBuffer(items, "t2")) as Buffer)[0]).toBe(0x01);
  });

  it("vector search embeds the plain value and returns it", async () => {
    const client = connect();
    const keyPrefix = testPrefix("cmpvec");
    const index = { dims: 16, embeddings: new HashEmbeddings(16), fields: ["title"] };
    const store = new RedisStore({ client, keyPrefix, index, compression: { minBytes: 1024 } });
    const golf = { title: "golf clubs", ...note(3000, 30) };
    await store.put(["kb"], "golf", golf);
    await store.put(["kb"], "tax", { title: "tax return", ...note(3000, 31) });
    const items = storeNamespaceKeys(keyPrefix, ["kb"]).items;
    expect(body((await client.hgetBuffer(items, "golf")) as Buffer)[0]).toBe(0x01);
    const hits = await store.search(["kb"], { query: "golf clubs", limit: 1 });
    expect(hits.map((h) => [h.key, h.value])).toEqual([["golf", golf]]);
  });

  it("takes the saver's option shape and refuses bad values with InvalidOptionError", () => {
    const client = connect();
    expect(() => new RedisStore({ client, compression: { minBytes: 8 } })).toThrow(InvalidOptionError);
    expect(() => new RedisStore({ client, compression: { level: 0 } })).toThrow(InvalidOptionError);
    expect(
      () => new RedisStore({ client, compression: { minBytes: 1024, extra: 1 } as unknown as { minBytes: number } }),
    ).toThrow(InvalidOptionError);
    expect(() => new RedisStore({ client, compression: false })).not.toThrow();
  });
});

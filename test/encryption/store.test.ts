/**
 * RedisStore's `encryption` option: values and their history reach Redis only as ciphertext (read raw), search
 * filters still work (they run on the decrypted values), keys rotate, requireEncrypted refuses planted plaintext,
 * and a changed or moved value fails with TamperedRecordError naming the key.
 */
import {
  CorruptDataError,
  InvalidOptionError,
  PlaintextRecordError,
  RedisStore,
  TamperedRecordError,
  UnknownEncryptionKeyError,
} from "../../src/index.js";
import { storeItemKeys, storeNamespaceKeys } from "../../src/keys.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { HashEmbeddings } from "../store/helpers.js";
import { KEY_1, KEY_2, keysContaining, rawContents } from "./helpers.js";

const SECRET = "iban-DE89370400440532013000";
const k1 = { keys: { k1: KEY_1 }, currentKeyId: "k1" };

describe.each(targets)("RedisStore encryption ($name)", ({ connect }) => {
  it("stores values and history only as ciphertext; get, search, history and update read them back", async () => {
    const client = connect();
    const keyPrefix = testPrefix("encst");
    const store = new RedisStore({ client, keyPrefix, encryption: k1 });
    await store.put(["accounts", "alice"], "bank", { iban: SECRET, kind: "checking" });
    await store.put(["accounts", "alice"], "bank", { iban: SECRET, kind: "savings" });
    await store.put(["accounts", "bob"], "bank", { iban: "other", kind: "checking" });
    await store.update(["accounts", "alice"], "counter", (current) => ({ n: Number(current?.n ?? 0) + 1, SECRET }));

    expect((await store.get(["accounts", "alice"], "bank"))?.value).toEqual({ iban: SECRET, kind: "savings" });
    const hits = await store.search(["accounts"], { filter: { kind: "checking" } });
    expect(hits.map((h) => h.namespace)).toEqual([["accounts", "bob"]]);
    expect((await store.history(["accounts", "alice"], "bank")).map((e) => e.value?.kind)).toEqual([
      "savings",
      "checking",
    ]);

    expect(await keysContaining(client, keyPrefix, "DE89")).toEqual([]);
    expect(await keysContaining(client, keyPrefix, "checking")).toEqual([]);
    const items = (await rawContents(client, keyPrefix)).get(
      storeNamespaceKeys(keyPrefix, ["accounts", "alice"]).items,
    );
    expect(items?.map((record) => record.toString("utf8").split("\n")[1]?.[0])).toEqual(["~", "~"]);
  });

  it("embeds the plaintext fields of an encrypted value for semantic search", async () => {
    const client = connect();
    const keyPrefix = testPrefix("encvec");
    const index = { dims: 16, embeddings: new HashEmbeddings(16), fields: ["title"] };
    const store = new RedisStore({ client, keyPrefix, encryption: k1, index });
    await store.put(["kb"], "golf", { title: "golf clubs", note: SECRET });
    await store.put(["kb"], "tax", { title: "tax return", note: "other" });
    const hits = await store.search(["kb"], { query: "golf clubs", limit: 1 });
    expect(hits.map((h) => [h.key, h.value.note])).toEqual([["golf", SECRET]]);
    expect(await keysContaining(client, keyPrefix, "DE89")).toEqual([]);
  });

  it("filter indexes work on encrypted values (scores from the plaintext; the text itself stays sealed)", async () => {
    const client = connect();
    const keyPrefix = testPrefix("encfx");
    const plain = new RedisStore({ client, keyPrefix, encryption: k1 });
    await plain.put(["accounts"], "old", { kind: "checking", balance: 10 });
    const store = new RedisStore({
      client,
      keyPrefix,
      encryption: k1,
      filterIndex: { fields: { kind: "string", balance: "number" } },
    });
    await store.put(["accounts"], "a", { kind: "checking", balance: 250, iban: SECRET });
    await store.put(["accounts"], "b", { kind: "savings", balance: 900 });
    expect((await store.reindex()).indexed).toBe(3);
    const hits = await store.search(["accounts"], { filter: { kind: "checking", balance: { $lt: 500 } } });
    expect(hits.map((h) => [h.key, h.value.iban])).toEqual([
      ["old", undefined],
      ["a", SECRET],
    ]);
    expect(await keysContaining(client, keyPrefix, "DE89")).toEqual([]);
    expect(await keysContaining(client, keyPrefix, "checking")).toEqual([]);
  });

  it("rotates keys and names a key id it was not given", async () => {
    const client = connect();
    const keyPrefix = testPrefix("encst");
    const old = new RedisStore({ client, keyPrefix, encryption: k1 });
    await old.put(["ns"], "a", { v: "k1 era" });
    const rotated = new RedisStore({
      client,
      keyPrefix,
      encryption: { keys: { k1: KEY_1, k2: KEY_2 }, currentKeyId: "k2" },
    });
    expect((await rotated.get(["ns"], "a"))?.value).toEqual({ v: "k1 era" });
    await rotated.put(["ns"], "b", { v: "k2 era" });
    const onlyNew = new RedisStore({ client, keyPrefix, encryption: { keys: { k2: KEY_2 }, currentKeyId: "k2" } });
    expect((await onlyNew.get(["ns"], "b"))?.value).toEqual({ v: "k2 era" });
    const error = await onlyNew.get(["ns"], "a").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownEncryptionKeyError);
    expect((error as UnknownEncryptionKeyError).keyId).toBe("k1");
  });

  it("refuses planted plaintext under requireEncrypted, reads it when migrating; a plain store refuses ciphertext", async () => {
    const client = connect();
    const keyPrefix = testPrefix("encst");
    const plain = new RedisStore({ client, keyPrefix });
    await plain.put(["ns"], "planted", { approve: true });
    const strict = new RedisStore({ client, keyPrefix, encryption: k1 });
    const error = await strict.get(["ns"], "planted").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlaintextRecordError);
    expect((error as PlaintextRecordError).key).toBe(storeNamespaceKeys(keyPrefix, ["ns"]).items);
    await expect(strict.search(["ns"])).rejects.toThrow(PlaintextRecordError);
    await expect(strict.history(["ns"], "planted")).rejects.toThrow(PlaintextRecordError);

    const migrating = new RedisStore({ client, keyPrefix, encryption: { ...k1, requireEncrypted: false } });
    expect((await migrating.get(["ns"], "planted"))?.value).toEqual({ approve: true });
    await migrating.put(["ns"], "sealed", { v: 1 });
    await expect(plain.get(["ns"], "sealed")).rejects.toThrow(CorruptDataError);
  });

  it("fails a changed value, or one moved to another item, with TamperedRecordError", async () => {
    const client = connect();
    const keyPrefix = testPrefix("encst");
    const store = new RedisStore({ client, keyPrefix, encryption: k1 });
    await store.put(["ns"], "a", { amount: 10 });
    await store.put(["ns"], "b", { amount: 12_000 });
    const itemsKey = storeNamespaceKeys(keyPrefix, ["ns"]).items;
    const a = (await client.hget(itemsKey, "a")) as string;
    const b = (await client.hget(itemsKey, "b")) as string;

    // b's sealed value under a's header: authenticated with b's key, so it does not open as a.
    await client.hset(itemsKey, "a", `${a.split("\n")[0]}\n${b.split("\n")[1]}`);
    let error = await store.get(["ns"], "a").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TamperedRecordError);
    expect((error as TamperedRecordError).key).toBe(itemsKey);

    const body = a.split("\n")[1] as string;
    const flipped = `${body.slice(0, 40)}${body[40] === "A" ? "B" : "A"}${body.slice(41)}`;
    await client.hset(itemsKey, "a", `${a.split("\n")[0]}\n${flipped}`);
    error = await store.get(["ns"], "a").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TamperedRecordError);

    // The history entries are sealed too.
    const historyKey = storeItemKeys(keyPrefix, ["ns"], "b").history;
    const [entry] = await client.zrange(historyKey, "0", "0");
    expect(entry?.split("\n")[1]?.startsWith("~")).toBe(true);
  });

  it("validates the option without echoing key material", () => {
    const client = connect();
    const error = (() => {
      try {
        new RedisStore({ client, encryption: { keys: { k1: Buffer.alloc(16, 0x41) }, currentKeyId: "k1" } });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as Error).message).toMatch(/RedisStore\.encryption\.keys\.k1.*16-byte key/);
    expect((error as Error).message).not.toContain("AAAA");
  });
});

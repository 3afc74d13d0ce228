/**
 * EncryptedSerializer under RedisSaver: everything a checkpoint carries (channel values, metadata, pending writes)
 * reaches Redis only as ciphertext (checked by reading every key raw); keys rotate (old records readable, new ones
 * written with the current key); requireEncrypted refuses plaintext; tampered records fail with a named error
 * that names the Redis key.
 */
import { JsonPlusSerializer } from "@langchain/langgraph-checkpoint";
import {
  CorruptCheckpointError,
  EncryptedSerializer,
  InvalidOptionError,
  PlaintextRecordError,
  RedisSaver,
  TamperedRecordError,
  UnknownEncryptionKeyError,
} from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { inputMetadata, makeCheckpoint } from "../saver/saver-helpers.js";
import { KEY_1, KEY_2, keysContaining, rawContents, sealedKeyIds } from "./helpers.js";

const SECRET = "card-4111-1111-1111-1111";

function threadConfig(threadId: string) {
  return { configurable: { thread_id: threadId, checkpoint_ns: "" } };
}

describe.each(targets)("EncryptedSerializer with RedisSaver ($name)", ({ connect }) => {
  it("stores only ciphertext and reads everything back", async () => {
    const client = connect();
    const keyPrefix = testPrefix("enc");
    const serde = new EncryptedSerializer({ keys: { k1: KEY_1 }, currentKeyId: "k1" });
    const saver = new RedisSaver({ client, keyPrefix, serde });
    const checkpoint = makeCheckpoint({ card: SECRET, notes: [{ text: `note about ${SECRET}` }] });
    const saved = await saver.put(threadConfig("t1"), checkpoint, { ...inputMetadata, reason: SECRET } as never, {
      card: 1,
      notes: 1,
    });
    await saver.putWrites(saved, [["card", `${SECRET}-pending`]], "task-1");

    const tuple = await saver.getTuple(saved);
    expect(tuple?.checkpoint.channel_values).toEqual({ card: SECRET, notes: [{ text: `note about ${SECRET}` }] });
    expect((tuple?.metadata as Record<string, unknown> | undefined)?.reason).toBe(SECRET);
    expect(tuple?.pendingWrites).toEqual([["task-1", "card", `${SECRET}-pending`]]);

    // The secret's text, not its digits alone: timestamps stored in plain (the thread registry's creation time)
    // can hold any run of digits.
    expect(await keysContaining(client, keyPrefix, "card-4111")).toEqual([]);
    const keys = saverThreadKeys(keyPrefix, "t1");
    const contents = await rawContents(client, keyPrefix);
    // checkpoint record, metadata, two blobs and the pending write: every value sealed with k1
    const ids = [keys.checkpoints, keys.blobs, keys.writes].flatMap((key) => sealedKeyIds(contents.get(key) ?? []));
    expect(ids.length).toBeGreaterThanOrEqual(5);
    expect(new Set(ids)).toEqual(new Set(["k1"]));
  });

  it("rotates keys: old records stay readable, new ones use the current key, a dropped key is named", async () => {
    const client = connect();
    const keyPrefix = testPrefix("enc");
    const oldSaver = new RedisSaver({
      client,
      keyPrefix,
      serde: new EncryptedSerializer({ keys: { k1: KEY_1 }, currentKeyId: "k1" }),
    });
    const first = makeCheckpoint({ v: "written with k1" });
    const firstConfig = await oldSaver.put(threadConfig("rot"), first, inputMetadata, { v: 1 });

    const rotated = new RedisSaver({
      client,
      keyPrefix,
      serde: new EncryptedSerializer({ keys: { k1: KEY_1, k2: KEY_2 }, currentKeyId: "k2" }),
    });
    expect((await rotated.getTuple(firstConfig))?.checkpoint.channel_values).toEqual({ v: "written with k1" });
    const second = makeCheckpoint({ v: "written with k2" }, { v: 2 });
    const secondConfig = await rotated.put(firstConfig, second, inputMetadata, { v: 2 });
    const blobs = (await rawContents(client, keyPrefix)).get(saverThreadKeys(keyPrefix, "rot").blobs) ?? [];
    expect(sealedKeyIds(blobs).sort()).toEqual(["k1", "k2"]);

    const onlyNew = new RedisSaver({
      client,
      keyPrefix,
      serde: new EncryptedSerializer({ keys: { k2: KEY_2 }, currentKeyId: "k2" }),
    });
    expect((await onlyNew.getTuple(secondConfig))?.checkpoint.channel_values).toEqual({ v: "written with k2" });
    const error = await onlyNew.getTuple(firstConfig).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownEncryptionKeyError);
    expect((error as UnknownEncryptionKeyError).keyId).toBe("k1");
    expect((error as UnknownEncryptionKeyError).key).toBe(saverThreadKeys(keyPrefix, "rot").checkpoints);
  });

  it("refuses plaintext records under requireEncrypted, and reads them when migrating", async () => {
    const client = connect();
    const keyPrefix = testPrefix("enc");
    const plain = new RedisSaver({ client, keyPrefix, serde: new JsonPlusSerializer() });
    const config = await plain.put(threadConfig("plain"), makeCheckpoint({ v: "planted" }), inputMetadata, { v: 1 });

    const strict = new RedisSaver({
      client,
      keyPrefix,
      serde: new EncryptedSerializer({ keys: { k1: KEY_1 }, currentKeyId: "k1" }),
    });
    const error = await strict.getTuple(config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlaintextRecordError);
    expect((error as PlaintextRecordError).key).toBe(saverThreadKeys(keyPrefix, "plain").checkpoints);

    const migrating = new RedisSaver({
      client,
      keyPrefix,
      serde: new EncryptedSerializer({ keys: { k1: KEY_1 }, currentKeyId: "k1", requireEncrypted: false }),
    });
    expect((await migrating.getTuple(config))?.checkpoint.channel_values).toEqual({ v: "planted" });
    const next = await migrating.put(config, makeCheckpoint({ v: "now sealed" }, { v: 2 }), inputMetadata, { v: 2 });
    expect((await strict.getTuple(next))?.checkpoint.channel_values).toEqual({ v: "now sealed" });
  });

  it("tells a reader without EncryptedSerializer that the data is encrypted, and with which key id", async () => {
    const client = connect();
    const keyPrefix = testPrefix("enc");
    const serde = new EncryptedSerializer({ keys: { "2026-11": KEY_1 }, currentKeyId: "2026-11" });
    const saved = await new RedisSaver({ client, keyPrefix, serde }).put(
      threadConfig("t1"),
      makeCheckpoint({ card: SECRET }),
      inputMetadata,
      { card: 1 },
    );
    const error = await new RedisSaver({ client, keyPrefix }).getTuple(saved).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptCheckpointError);
    expect((error as CorruptCheckpointError).key).toBe(saverThreadKeys(keyPrefix, "t1").checkpoints);
    expect(String(error)).toMatch(
      /it is encrypted \(type "json\+aes256gcm", key id "2026-11"\) and this reader has no EncryptedSerializer/,
    );
  });

  it("fails a changed, truncated or relabelled record with TamperedRecordError naming the key", async () => {
    const client = connect();
    const keyPrefix = testPrefix("enc");
    const saver = new RedisSaver({
      client,
      keyPrefix,
      serde: new EncryptedSerializer({ keys: { k1: KEY_1 }, currentKeyId: "k1" }),
    });
    const config = await saver.put(threadConfig("tamper"), makeCheckpoint({ v: "value" }), inputMetadata, { v: 1 });
    const blobsKey = saverThreadKeys(keyPrefix, "tamper").blobs;
    const [field] = Object.keys(await client.hgetall(blobsKey));
    const original = (await client.hgetallBuffer(blobsKey))[field as string] as Buffer;
    const cases: [string, Buffer][] = [
      [
        "a flipped ciphertext byte",
        Buffer.concat([original.subarray(0, -1), Buffer.from([(original.at(-1) ?? 0) ^ 1])]),
      ],
      ["a truncated ciphertext", truncateSealed(original, 4)],
      // The frame's type part ("json+aes256gcm") relabelled as "bytes+aes256gcm": the type is authenticated.
      ["a relabelled type", relabel(original, "json+aes256gcm", "bytes+aes256gcm")],
    ];
    for (const [what, bytes] of cases) {
      await client.hset(blobsKey, field as string, bytes);
      const error = await saver.getTuple(config).catch((e: unknown) => e);
      expect(error, what).toBeInstanceOf(TamperedRecordError);
      expect((error as TamperedRecordError).key, what).toBe(blobsKey);
    }
  });
});

/** Replaces the frame part `from` with `to`, fixing its 4-byte length prefix. */
function relabel(frame: Buffer, from: string, to: string): Buffer {
  const at = frame.indexOf(from);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(Buffer.byteLength(to));
  return Buffer.concat([frame.subarray(0, at - 4), length, Buffer.from(to), frame.subarray(at + from.length)]);
}

/** Drops the last `n` bytes of the sealed part (the frame's last part), fixing its length prefix. */
function truncateSealed(frame: Buffer, n: number): Buffer {
  const at = frame.indexOf("LGE");
  const out = Buffer.from(frame.subarray(0, frame.length - n));
  out.writeUInt32BE(frame.length - at - n, at - 4);
  return out;
}

describe("EncryptedSerializer options", () => {
  it("names the bad option and never echoes key material", () => {
    const secretish = Buffer.alloc(31, 0x41); // "AAAA...": must not appear in the message
    const attempts: [unknown, RegExp][] = [
      [{ keys: { k1: secretish }, currentKeyId: "k1" }, /EncryptedSerializer\.keys\.k1.*31-byte key/],
      [{ keys: { k1: "QUFBQUFB" }, currentKeyId: "k1" }, /EncryptedSerializer\.keys\.k1.*not shown/],
      [{ keys: { k1: KEY_1 }, currentKeyId: "k2" }, /EncryptedSerializer\.currentKeyId.*one of the key ids/],
      [{ keys: {}, currentKeyId: "k1" }, /EncryptedSerializer\.keys/],
      [{ keys: { "bad:id": KEY_1 }, currentKeyId: "bad:id" }, /EncryptedSerializer\.keys/],
    ];
    for (const [options, message] of attempts) {
      let error: unknown;
      try {
        new EncryptedSerializer(options as never);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain("AAAA");
      expect((error as Error).message).not.toContain("QUFB");
    }
  });
});

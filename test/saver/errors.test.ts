/**
 * Named errors: bad configs (InvalidConfigError), bytes in Redis that cannot be decoded (CorruptCheckpointError
 * naming the key, other threads unaffected), a server lacking a command (UnsupportedServerError), and a client
 * that cannot reach Redis (RedisConnectionError).
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { startRedis } from "../../scripts/local-redis.js";
import {
  CorruptCheckpointError,
  InvalidConfigError,
  InvalidInputError,
  RedisConnectionError,
  RedisSaver,
  UnsupportedServerError,
} from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { checkpointField, FrameFormat, frame } from "../../src/saver/codec.js";
import { createSaverContext } from "../../src/saver/context.js";
import { newRedis, targets, testPrefix } from "../helpers/redis.js";
import { collect, inputMetadata, makeCheckpoint } from "./saver-helpers.js";

describe.each(targets)("RedisSaver errors ($name)", ({ connect }) => {
  let saver: RedisSaver;
  let keyPrefix: string;

  beforeAll(() => {
    keyPrefix = testPrefix("err");
    saver = new RedisSaver({ client: connect(), keyPrefix });
  });

  describe("InvalidConfigError", () => {
    const checkpoint = makeCheckpoint();

    it("when put has no thread_id or no configurable at all", async () => {
      await expect(saver.put({}, checkpoint, inputMetadata, {})).rejects.toThrow(InvalidConfigError);
      await expect(saver.put({ configurable: { checkpoint_ns: "" } }, checkpoint, inputMetadata, {})).rejects.toThrow(
        /thread_id is missing/,
      );
    });

    it("when putWrites has no thread_id or no checkpoint_id", async () => {
      await expect(saver.putWrites({ configurable: { checkpoint_id: "x" } }, [["a", 1]], "task")).rejects.toThrow(
        InvalidConfigError,
      );
      await expect(saver.putWrites({ configurable: { thread_id: "t" } }, [["a", 1]], "task")).rejects.toThrow(
        /checkpoint_id is missing/,
      );
    });

    it("when a field has the wrong type or the config is not an object", async () => {
      await expect(saver.put({ configurable: { thread_id: 42 } }, checkpoint, inputMetadata, {})).rejects.toThrow(
        /thread_id must be a string, received 42/,
      );
      await expect(saver.getTuple({ configurable: { thread_id: "t", checkpoint_ns: {} } })).rejects.toThrow(
        InvalidConfigError,
      );
      await expect(saver.getTuple({ configurable: { thread_id: "" } })).rejects.toThrow(/must not be empty/);
      await expect(saver.getTuple({ configurable: "nope" } as never)).rejects.toThrow(InvalidConfigError);
      await expect(collect(saver.list(null as never))).rejects.toThrow(InvalidConfigError);
      await expect(collect(saver.list({}, { filter: "x" as never }))).rejects.toThrow(InvalidConfigError);
    });

    it("but getTuple without thread_id finds nothing, as LangGraph's savers do", async () => {
      expect(await saver.getTuple({ configurable: {} })).toBeUndefined();
    });

    it("and InvalidInputError for a bad deleteThread id or checkpoint", async () => {
      await expect(saver.deleteThread("")).rejects.toThrow(InvalidInputError);
      await expect(saver.deleteThread(7 as never)).rejects.toThrow(InvalidInputError);
      await expect(
        saver.put({ configurable: { thread_id: "t" } }, { ...checkpoint, id: "" }, inputMetadata, {}),
      ).rejects.toThrow(InvalidInputError);
    });

    it("writes nothing when it throws", async () => {
      const threadId = testPrefix("nothing");
      await expect(saver.putWrites({ configurable: { thread_id: threadId } }, [["a", 1]], "task")).rejects.toThrow(
        InvalidConfigError,
      );
      expect(await saver.client.exists(...saverThreadKeys(keyPrefix, threadId).all)).toBe(0);
    });
  });

  describe("CorruptCheckpointError", () => {
    async function threadWithCheckpoint(values: Record<string, unknown> = { a: 1 }) {
      const threadId = testPrefix("corrupt");
      const checkpoint = makeCheckpoint(values);
      const config = await saver.put({ configurable: { thread_id: threadId } }, checkpoint, inputMetadata, {
        ...checkpoint.channel_versions,
      });
      await saver.putWrites(config, [["a", 2]], "task");
      return { threadId, checkpoint, config, keys: saverThreadKeys(keyPrefix, threadId) };
    }

    it("names the key of an undecodable checkpoint record, and other threads still read", async () => {
      const healthy = await threadWithCheckpoint();
      const broken = await threadWithCheckpoint();
      await saver.client.hset(broken.keys.checkpoints, checkpointField("", broken.checkpoint.id), "garbage bytes");

      const error = await saver.getTuple(broken.config).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptCheckpointError);
      expect((error as CorruptCheckpointError).key).toBe(broken.keys.checkpoints);
      expect((error as Error).message).toContain(broken.keys.checkpoints);
      await expect(collect(saver.list(broken.config))).rejects.toThrow(CorruptCheckpointError);

      const tuple = await saver.getTuple(healthy.config);
      expect(tuple?.checkpoint.channel_values).toEqual({ a: 1 });
    });

    it("names the key when framed bytes do not deserialise", async () => {
      const broken = await threadWithCheckpoint();
      const blobFieldName = (await saver.client.hkeys(broken.keys.blobs))[0] as string;
      await saver.client.hset(broken.keys.blobs, blobFieldName, frame(["json", "{not json"]));
      const error = await saver.getTuple(broken.config).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptCheckpointError);
      expect((error as CorruptCheckpointError).key).toBe(broken.keys.blobs);
      expect((error as Error).cause).toBeDefined();
    });

    it("names the key of an undecodable pending write: the record that carries it, or the writes hash", async () => {
      const broken = await threadWithCheckpoint();
      const field = checkpointField("", broken.checkpoint.id);
      // The bundle rides in the record: cut its last write short.
      expect(await saver.client.hexists(broken.keys.writes, field)).toBe(0);
      const stored = (await saver.client.hgetBuffer(broken.keys.checkpoints, field)) as Buffer;
      expect(stored[0]).toBe(FrameFormat.RECORD_WITH_WRITES);
      await saver.client.hset(broken.keys.checkpoints, field, stored.subarray(0, stored.length - 2));
      const error = await saver.getTuple(broken.config).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptCheckpointError);
      expect((error as CorruptCheckpointError).key).toBe(broken.keys.checkpoints);
      expect((error as Error).message).toContain("a pending write in the record of");
      // A write in the writes hash (an overflow write beside it here) names that key.
      const other = await threadWithCheckpoint();
      await saver.putWrites(other.config, [["a", randomBytes(5_000).toString("base64")]], "large");
      const writeFieldName = (await saver.client.hkeys(other.keys.writes))[0] as string;
      await saver.client.hset(other.keys.writes, writeFieldName, Buffer.from([1, 0, 0, 0, 9]));
      const otherError = await saver.getTuple(other.config).catch((e: unknown) => e);
      expect(otherError).toBeInstanceOf(CorruptCheckpointError);
      expect((otherError as CorruptCheckpointError).key).toBe(other.keys.writes);
    });

    it("names the key that holds the wrong Redis type", async () => {
      const broken = await threadWithCheckpoint();
      await saver.client.del(broken.keys.blobs);
      await saver.client.set(broken.keys.blobs, "not a hash");
      const error = await saver.getTuple(broken.config).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptCheckpointError);
      expect((error as CorruptCheckpointError).key).toBe(broken.keys.blobs);
    });
  });

  it("RedisConnectionError when the client cannot reach Redis", async () => {
    const dead = new Redis({ port: 1, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    dead.on("error", () => {});
    const offline = new RedisSaver({ client: dead, keyPrefix: testPrefix("dead") });
    try {
      await expect(offline.getTuple({ configurable: { thread_id: "t" } })).rejects.toThrow(RedisConnectionError);
    } finally {
      dead.disconnect();
    }
  });
});

describe("UnsupportedServerError", () => {
  it("when the server is older than the saver needs, checked lazily and once", async () => {
    const client = newRedis();
    const serde = new RedisSaver({ client }).serde;
    const tooNew = createSaverContext({
      client,
      keyPrefix: "v",
      ttl: { refreshOnRead: false },
      serde,
      minServerVersion: [99, 0, 0],
    });
    await expect(tooNew.ready()).rejects.toThrow(UnsupportedServerError);
    await expect(tooNew.ready()).rejects.toThrow(/needs Redis 99\.0\.0 or newer; the server reports 7\./);

    const info = vi.spyOn(client, "info");
    const saver = new RedisSaver({ client, keyPrefix: testPrefix("once") });
    expect(info).not.toHaveBeenCalled();
    for (let i = 0; i < 3; i++) await saver.getTuple({ configurable: { thread_id: "t" } });
    expect(info).toHaveBeenCalledTimes(1);
  });

  it("when the server has a command the scripts use disabled", async () => {
    const server = await startRedis(["--rename-command", "ZRANGE", ""]);
    const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
    try {
      const limited = new RedisSaver({ client, keyPrefix: "old" });
      const error = await limited.getTuple({ configurable: { thread_id: "t" } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnsupportedServerError);
      expect((error as Error).message).toMatch(/command/i);
    } finally {
      client.disconnect();
      await server.stop();
    }
  });
});

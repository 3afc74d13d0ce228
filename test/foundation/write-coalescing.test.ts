/**
 * Script calls sent in one turn of the event loop leave in one socket write (src/write-coalescing.ts), with their
 * replies in order; a call made alone is written at once; no socket stays corked; a connection lost while commands
 * wait in a corked socket fails or resends them as ioredis does without corking.
 */
import type { Writable } from "node:stream";
import type { Cluster, Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import type { RedisClient } from "../../src/client.js";
import { callScript, registerScripts } from "../../src/lua/index.js";
import { newCluster, newRedis, testPrefix } from "../helpers/redis.js";

/** Counts the writes the socket hands to the kernel (one per _write or _writev). */
function countWrites(stream: Writable): { writes: number } {
  const counter = { writes: 0 };
  const target = stream as Writable & {
    _write: (...args: unknown[]) => void;
    _writev?: (...args: unknown[]) => void;
  };
  const write = target._write;
  target._write = function (this: unknown, ...args: unknown[]) {
    counter.writes++;
    return write.apply(this, args);
  };
  const writev = target._writev;
  if (writev !== undefined) {
    target._writev = function (this: unknown, ...args: unknown[]) {
      counter.writes++;
      return writev.apply(this, args);
    };
  }
  return counter;
}

/** A cache bucket holding `count` entries k<i> -> v<i> (the record format cacheGet reads: "<expiry>:" .. payload). */
async function fillBucket(client: RedisClient, key: string, count: number): Promise<void> {
  const fields: string[] = [];
  for (let i = 0; i < count; i++) fields.push(`k${i}`, `:v${i}`);
  await client.hset(key, ...fields);
}

function readAll(client: RedisClient, key: string, count: number): Promise<string[][]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      callScript(client, "cacheGet", { entries: key }, [`k${i}`]).then((reply) => reply.map(String)),
    ),
  );
}

async function connected(client: Redis): Promise<Redis> {
  registerScripts(client);
  await client.ping();
  return client;
}

describe("write coalescing", () => {
  it("sends the calls of one turn in two socket writes, replies in order, and leaves the socket uncorked", async () => {
    const client = await connected(newRedis());
    const key = `${testPrefix("wc")}:{bucket}`;
    await fillBucket(client, key, 50);
    // Warm up: the script is loaded (EVALSHA succeeds) before writes are counted.
    await readAll(client, key, 1);
    const counter = countWrites(client.stream);
    const replies = await readAll(client, key, 50);
    expect(replies).toEqual(Array.from({ length: 50 }, (_, i) => [`v${i}`]));
    // The first call is written at once, the 49 others together when the turn ends.
    expect(counter.writes).toBe(2);
    expect(client.stream.writableCorked).toBe(0);
    await client.del(key);
  });

  it("writes a call made alone at once", async () => {
    const client = await connected(newRedis());
    const key = `${testPrefix("wc")}:{bucket}`;
    await fillBucket(client, key, 1);
    await readAll(client, key, 1);
    const counter = countWrites(client.stream);
    const pending = callScript(client, "cacheGet", { entries: key }, ["k0"]);
    expect(counter.writes).toBe(1);
    expect((await pending).map(String)).toEqual(["v0"]);
    await client.del(key);
  });

  it("spreads the calls of a turn over a cluster's nodes and uncorks every node's socket", async () => {
    const cluster = newCluster();
    registerScripts(cluster);
    await cluster.ping();
    const prefix = testPrefix("wc");
    // Keys in many slots, so the calls of the turn go to every master.
    const keys = Array.from({ length: 30 }, (_, i) => `${prefix}:{b${i}}`);
    for (const key of keys) await fillBucket(cluster, key, 2);
    const readEach = () =>
      Promise.all(keys.map((key) => callScript(cluster, "cacheGet", { entries: key }, ["k0", "k1"])));
    await readEach(); // every node connected and its script loaded before writes are counted
    const nodes = (cluster as Cluster).nodes("all");
    const counters = nodes.map((node) => countWrites(node.stream));
    const replies = await readEach();
    expect(replies.map((reply) => reply.map(String))).toEqual(keys.map(() => ["v0", "v1"]));
    // The first call is written at once; the others leave in one write per node when the turn ends.
    const writes = counters.reduce((sum, counter) => sum + counter.writes, 0);
    expect(writes).toBeLessThanOrEqual(nodes.length + 1);
    for (const node of (cluster as Cluster).nodes("all")) expect(node.stream?.writableCorked ?? 0).toBe(0);
    for (const key of keys) await cluster.del(key);
  });

  it("settles every call when the connection drops while they wait in the corked socket", async () => {
    const client = await connected(newRedis());
    const key = `${testPrefix("wc")}:{bucket}`;
    await fillBucket(client, key, 20);
    await readAll(client, key, 1);
    const calls = readAll(client, key, 20);
    // Still in the turn: the first call was written, the others wait in the corked socket.
    expect(client.stream.writableCorked).toBeGreaterThan(0);
    client.stream.destroy();
    const outcomes = await Promise.allSettled([calls]);
    // ioredis resends unanswered commands after reconnecting, or fails them: either way nothing hangs, and what
    // succeeded is right.
    const [outcome] = outcomes;
    if (outcome?.status === "fulfilled") {
      expect(outcome.value).toEqual(Array.from({ length: 20 }, (_, i) => [`v${i}`]));
    } else {
      expect(outcome?.reason).toBeInstanceOf(Error);
    }
    await client.ping();
    expect(client.stream.writableCorked).toBe(0);
    await client.del(key);
  });
});

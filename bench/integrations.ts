/**
 * What the production options cost (compression: RedisStore put/get of a 3 KB memory record against the same without
 * compression, and the bytes per item with and without): an encrypted RedisSaver put/getTuple and RedisStore put/get against the same
 * operation without encryption (interleaved, so the ratio is the option's own cost), RedisCache get/set against a
 * raw GET/SET of the same bytes, the bytes encryption adds per stored record (MEMORY USAGE), and what an
 * OpenTelemetry SDK that records every span adds to a put (against the same put whose span is not sampled).
 */
import { randomUUID } from "node:crypto";
import { trace } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type Sampler,
  SamplingDecision,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { EncryptedSerializer, RedisCache, RedisSaver, RedisStore } from "../src/index.js";
import { storeItemKeys, storeNamespaceKeys } from "../src/keys.js";
import { loadOtel } from "../src/telemetry/otel.js";
import { randomWords, seededRandom } from "./chat-thread.js";
import { measureVsFloor, vsFloorTables } from "./compare.js";
import type { BenchContext } from "./context.js";
import { floorOps } from "./floor.js";
import { CheckpointSequence, jsonBytes, memoryRecord, putPayloadBytes, storeItem, typicalStep } from "./payloads.js";
import { putStep, threadConfig, versionsOf } from "./saver.js";

const encryption = { keys: { bench: Buffer.alloc(32, 7) }, currentKeyId: "bench" };

export async function integrationsSection(ctx: BenchContext): Promise<void> {
  const tables = vsFloorTables(ctx, "options", "Encryption and node cache");
  const iterations = ctx.iterations(1000);
  tables.latency.notes.push(
    "Encryption rows: the floor is the same operation with encryption off, so the ratio is what AES-256-GCM " +
      "(node:crypto, a fresh random IV per record) adds. Cache rows: the floor is a raw GET/SET of the same bytes.",
  );

  // RedisSaver: a typical step (about 1 KB of messages and a counter) appended to a thread, with and without.
  const plainSaver = new RedisSaver({ client: ctx.client, keyPrefix: ctx.keyPrefix("enc-plain") });
  const sealedSaver = new RedisSaver({
    client: ctx.client,
    keyPrefix: ctx.keyPrefix("enc-sealed"),
    serde: new EncryptedSerializer(encryption),
  });
  const plainThread = `put-${randomUUID()}`;
  const sealedThread = `put-${randomUUID()}`;
  const plainSeq = new CheckpointSequence(versionsOf(plainSaver));
  const sealedSeq = new CheckpointSequence(versionsOf(sealedSaver));
  const probe = sealedSeq.next(typicalStep(0));
  await putStep(sealedSaver, sealedThread, probe);
  await putStep(plainSaver, plainThread, plainSeq.next(typicalStep(0)));
  await measureVsFloor(
    ctx,
    tables,
    {
      op: "RedisSaver put, encrypted",
      bytes: await putPayloadBytes(probe),
      floor: "same put, plain",
      metric: "encryption.saverPut",
      run: (i) => putStep(sealedSaver, sealedThread, sealedSeq.next(typicalStep(i + 1))),
      runFloor: (i) => putStep(plainSaver, plainThread, plainSeq.next(typicalStep(i + 1))),
    },
    iterations,
  );
  await measureVsFloor(
    ctx,
    tables,
    {
      op: "RedisSaver getTuple, encrypted",
      bytes: null,
      floor: "same getTuple, plain",
      metric: "encryption.saverGetTuple",
      run: () => sealedSaver.getTuple(threadConfig(sealedThread)),
      runFloor: () => plainSaver.getTuple(threadConfig(plainThread)),
    },
    iterations,
  );

  // RedisStore: overwriting one of 100 items, and reading one, with and without.
  const plainStore = new RedisStore({ client: ctx.client, keyPrefix: ctx.keyPrefix("enc-store-plain") });
  const sealedStore = new RedisStore({
    client: ctx.client,
    keyPrefix: ctx.keyPrefix("enc-store-sealed"),
    encryption,
  });
  const ns = ["bench", "accounts"];
  for (let i = 0; i < 100; i++) {
    await plainStore.put(ns, `item-${i}`, storeItem(i));
    await sealedStore.put(ns, `item-${i}`, storeItem(i));
  }
  await measureVsFloor(
    ctx,
    tables,
    {
      op: "RedisStore put, encrypted",
      bytes: jsonBytes(storeItem(1)),
      floor: "same put, plain",
      metric: "encryption.storePut",
      run: (i) => sealedStore.put(ns, `item-${i % 100}`, storeItem(i)),
      runFloor: (i) => plainStore.put(ns, `item-${i % 100}`, storeItem(i)),
    },
    iterations,
  );
  await measureVsFloor(
    ctx,
    tables,
    {
      op: "RedisStore get, encrypted",
      bytes: jsonBytes(storeItem(1)),
      floor: "same get, plain",
      metric: "encryption.storeGet",
      run: (i) => sealedStore.get(ns, `item-${i % 100}`),
      runFloor: (i) => plainStore.get(ns, `item-${i % 100}`),
    },
    iterations,
  );

  await storeCompression(ctx, tables, iterations);

  // RedisCache: a node's cached writes (a 1 KB reply), read on a hit and written on a miss.
  const cache = new RedisCache({ client: ctx.client, keyPrefix: ctx.keyPrefix("cache") });
  const cacheNs = ["__pregel_ns_writes", "lookup", "lookup"];
  const writes = [["answer", "x".repeat(1000)]];
  await cache.set([{ key: [cacheNs, "hit"], value: writes, ttl: 3600 }]);
  const cacheBytes = (await cache.serde.dumpsTyped(writes))[1].byteLength;
  const cacheFloor = await floorOps(ctx.client, `${ctx.keyPrefix("cache-floor")}:value`, cacheBytes);
  await measureVsFloor(
    ctx,
    tables,
    {
      op: "RedisCache get (hit)",
      bytes: cacheBytes,
      floor: "GET same bytes",
      metric: "cache.get",
      run: () => cache.get([[cacheNs, "hit"]]),
      runFloor: cacheFloor.get,
    },
    iterations,
  );
  await measureVsFloor(
    ctx,
    tables,
    {
      op: "RedisCache set (ttl)",
      bytes: cacheBytes,
      floor: "SET same bytes",
      metric: "cache.set",
      run: (i) => cache.set([{ key: [cacheNs, `k${i % 1000}`], value: writes, ttl: 3600 }]),
      runFloor: cacheFloor.set,
    },
    iterations,
  );

  // Memory: what sealing adds per stored record.
  const plainItems = storeNamespaceKeys(ctx.keyPrefix("enc-store-plain"), ns).items;
  const sealedItems = storeNamespaceKeys(ctx.keyPrefix("enc-store-sealed"), ns).items;
  const plainBytes = Number(await ctx.client.memory("USAGE", plainItems, "SAMPLES", "0"));
  const sealedBytes = Number(await ctx.client.memory("USAGE", sealedItems, "SAMPLES", "0"));
  const perItem = (sealedBytes - plainBytes) / 100;
  ctx.recorder.metric("encryption.storeBytesPerItem", perItem);
  tables.latency.notes.push(
    `Memory: an encrypted store item takes ${perItem.toFixed(0)} bytes more than a plain one ` +
      `(${jsonBytes(storeItem(1))}-byte JSON value; MEMORY USAGE of the items hash, 100 items): the sealed value is ` +
      "the base64 of the ciphertext and 33 bytes of header, IV and tag plus the key id. A checkpoint value grows by " +
      "those 33 bytes plus the key id (binary, no base64).",
  );

  await telemetryCost(ctx, tables, iterations);
}

/**
 * A put traced by a real SDK (every span recorded and handed to an in-memory exporter) against the same put whose
 * span the sampler drops, interleaved; the provider is unregistered afterwards so later sections run untraced.
 */
async function telemetryCost(
  ctx: BenchContext,
  tables: ReturnType<typeof vsFloorTables>,
  iterations: number,
): Promise<void> {
  await loadOtel();
  let recording = false;
  const sampler: Sampler = {
    shouldSample: () => ({ decision: recording ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD }),
    toString: () => "bench toggle",
  };
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ sampler, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(provider);
  try {
    const saver = new RedisSaver({ client: ctx.client, keyPrefix: ctx.keyPrefix("otel-put") });
    const thread = `put-${randomUUID()}`;
    const seq = new CheckpointSequence(versionsOf(saver));
    const probe = seq.next(typicalStep(0));
    await putStep(saver, thread, probe);
    await measureVsFloor(
      ctx,
      tables,
      {
        op: "RedisSaver put, traced (SDK)",
        bytes: await putPayloadBytes(probe),
        floor: "same put, span not sampled",
        metric: "telemetry.saverPut",
        run: (i) => {
          recording = true;
          return putStep(saver, thread, seq.next(typicalStep(i + 1)));
        },
        runFloor: (i) => {
          recording = false;
          exporter.reset();
          return putStep(saver, thread, seq.next(typicalStep(i + 1)));
        },
      },
      iterations,
    );
  } finally {
    trace.disable();
    await provider.shutdown();
  }
}

/** Bytes one store item takes: its share of the namespace's items hash plus its history (MEMORY USAGE). */
async function bytesPerItem(
  ctx: BenchContext,
  keyPrefix: string,
  ns: readonly string[],
  keys: readonly string[],
): Promise<number> {
  const usage = async (key: string) => Number(await ctx.client.memory("USAGE", key, "SAMPLES", "0"));
  let total = await usage(storeNamespaceKeys(keyPrefix, ns).items);
  for (const key of keys) total += await usage(storeItemKeys(keyPrefix, ns, key).history);
  return total / keys.length;
}

const STORE_COMPRESSION = { minBytes: 1024 };
const RECORD_BYTES = 3 * 1024;

/**
 * The store's `compression` option: bytes per item (100 items, one history entry each) of a 3 KB memory record of
 * everyday words and of 3 KB of random words (text that compresses poorly), and put/get against the same without.
 */
async function storeCompression(
  ctx: BenchContext,
  tables: ReturnType<typeof vsFloorTables>,
  iterations: number,
): Promise<void> {
  const ns = ["bench", "memories"];
  const keys = Array.from({ length: 100 }, (_, i) => `item-${i}`);
  const random = seededRandom(11);
  const values = {
    record: (i: number) => memoryRecord(RECORD_BYTES, i + 1),
    words: (i: number) => ({ userId: `user-${i}`, kind: "note", text: randomWords(random, RECORD_BYTES) }),
  };
  const perItem: Record<string, { plain: number; compressed: number }> = {};
  for (const [name, make] of Object.entries(values)) {
    const plainPrefix = ctx.keyPrefix(`cmp-${name}-plain`);
    const zlibPrefix = ctx.keyPrefix(`cmp-${name}-zlib`);
    const plain = new RedisStore({ client: ctx.client, keyPrefix: plainPrefix });
    const zlib = new RedisStore({ client: ctx.client, keyPrefix: zlibPrefix, compression: STORE_COMPRESSION });
    for (const [i, key] of keys.entries()) {
      const value = make(i);
      await plain.put(ns, key, value);
      await zlib.put(ns, key, value);
    }
    perItem[name] = {
      plain: await bytesPerItem(ctx, plainPrefix, ns, keys),
      compressed: await bytesPerItem(ctx, zlibPrefix, ns, keys),
    };
    ctx.recorder.metric(`compression.store.${name}.plainBytesPerItem`, perItem[name].plain);
    ctx.recorder.metric(`compression.store.${name}.compressedBytesPerItem`, perItem[name].compressed);
  }

  const plain = new RedisStore({ client: ctx.client, keyPrefix: ctx.keyPrefix("cmp-record-plain") });
  const zlib = new RedisStore({
    client: ctx.client,
    keyPrefix: ctx.keyPrefix("cmp-record-zlib"),
    compression: STORE_COMPRESSION,
  });
  const bytes = jsonBytes(memoryRecord(RECORD_BYTES, 1));
  await measureVsFloor(
    ctx,
    tables,
    {
      op: "RedisStore put, compressed",
      bytes,
      floor: "same put, plain",
      metric: "compression.storePut",
      run: (i) => zlib.put(ns, `item-${i % 100}`, values.record(i % 100)),
      runFloor: (i) => plain.put(ns, `item-${i % 100}`, values.record(i % 100)),
    },
    iterations,
  );
  await measureVsFloor(
    ctx,
    tables,
    {
      op: "RedisStore get, compressed",
      bytes,
      floor: "same get, plain",
      metric: "compression.storeGet",
      run: (i) => zlib.get(ns, `item-${i % 100}`),
      runFloor: (i) => plain.get(ns, `item-${i % 100}`),
    },
    iterations,
  );
  const kib = (n: number) => `${(n / 1024).toFixed(2)} KiB`;
  const line = (name: string, what: string) => {
    const m = perItem[name] as { plain: number; compressed: number };
    return `${what}: ${kib(m.plain)} plain, ${kib(m.compressed)} compressed (${(m.plain / m.compressed).toFixed(1)}x)`;
  };
  tables.latency.notes.push(
    `Store compression (compression: { minBytes: 1024 }), bytes per item (items hash share + history, one entry, ` +
      `MEMORY USAGE, 100 items): ${line("record", `a ${bytes}-byte memory record of everyday words`)}; ` +
      `${line("words", "3 KiB of random words")}. The put and get rows use the memory record.`,
  );
}

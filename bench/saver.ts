/**
 * RedisSaver operations one by one against their floors: put, putWrites, getTuple and list(limit 10), each
 * interleaved with a raw SET or GET of the bytes it moves. Written against BaseCheckpointSaver, so the same code
 * measures any saver.
 */
import { randomUUID } from "node:crypto";
import type { RunnableConfig } from "@langchain/core/runnables";
import type { BaseCheckpointSaver, CheckpointTuple } from "@langchain/langgraph-checkpoint";
import { measureVsFloor, vsFloorTables } from "./compare.js";
import type { BenchContext } from "./context.js";
import { nodeCpuPerCall } from "./cpu.js";
import { floorOps } from "./floor.js";
import {
  CheckpointSequence,
  type NextVersion,
  type PutArgs,
  putPayloadBytes,
  serde,
  typicalStep,
  typicalWrites,
  writesBytes,
} from "./payloads.js";

export function threadConfig(threadId: string, checkpointId?: string): RunnableConfig {
  return {
    configurable: { thread_id: threadId, checkpoint_ns: "", ...(checkpointId ? { checkpoint_id: checkpointId } : {}) },
  };
}

/** The saver's own version scheme, for CheckpointSequence. */
export function versionsOf(saver: BaseCheckpointSaver): NextVersion {
  return (current) => saver.getNextVersion(current as never) as number | string;
}

export function putStep(saver: BaseCheckpointSaver, threadId: string, args: PutArgs): Promise<RunnableConfig> {
  return saver.put(threadConfig(threadId, args.parentId), args.checkpoint, args.metadata, args.newVersions);
}

/** Serialized bytes of what a read returns: checkpoint with values, metadata, pending writes. */
export async function tupleBytes(tuple: CheckpointTuple): Promise<number> {
  let total = (await serde.dumpsTyped(tuple.checkpoint))[1].byteLength;
  total += (await serde.dumpsTyped(tuple.metadata ?? {}))[1].byteLength;
  for (const [taskId, channel, value] of tuple.pendingWrites ?? []) {
    total += taskId.length + channel.length + (await serde.dumpsTyped(value))[1].byteLength;
  }
  return total;
}

/** Stores `count` typical steps on a thread; the last one gets one task's pending writes, as a paused step has. */
export async function typicalThread(saver: BaseCheckpointSaver, threadId: string, count: number): Promise<string> {
  const sequence = new CheckpointSequence(versionsOf(saver));
  let last = "";
  for (let step = 0; step < count; step++) {
    const args = sequence.next(typicalStep(step));
    await putStep(saver, threadId, args);
    last = args.checkpoint.id;
  }
  await saver.putWrites(threadConfig(threadId, last), typicalWrites(count), randomUUID());
  return last;
}

export async function saverSection(ctx: BenchContext, name: string, saver: BaseCheckpointSaver): Promise<void> {
  const tables = vsFloorTables(ctx, "saver", name);
  const table = tables.latency;
  const iterations = ctx.iterations(2000);
  const floorKey = `${ctx.keyPrefix("saver-floor")}:value`;

  // put: a typical step (about 1 KB of messages and a counter, both changed) appended to one thread.
  const putThread = `put-${randomUUID()}`;
  const sequence = new CheckpointSequence(versionsOf(saver));
  await putStep(saver, putThread, sequence.next(typicalStep(0)));
  const probe = sequence.next(typicalStep(1));
  await putStep(saver, putThread, probe);
  const putBytes = await putPayloadBytes(probe);
  const putFloor = await floorOps(ctx.client, floorKey, putBytes);
  await measureVsFloor(
    ctx,
    tables,
    {
      op: "put (typical step)",
      bytes: putBytes,
      floor: "SET same bytes",
      metric: "saver.put",
      run: (i) => putStep(saver, putThread, sequence.next(typicalStep(i + 2))),
      runFloor: putFloor.set,
    },
    iterations,
  );

  // putWrites: one task's writes (a reply and a counter), a new task id each call, on one checkpoint.
  const writesThread = `writes-${randomUUID()}`;
  const writesAt = threadConfig(writesThread, await typicalThread(saver, writesThread, 1));
  const writesFloor = await floorOps(ctx.client, floorKey, await writesBytes(typicalWrites(0)));
  await measureVsFloor(
    ctx,
    tables,
    {
      op: "putWrites (one task, 2 writes)",
      bytes: writesFloor.bytes,
      floor: "SET same bytes",
      metric: "saver.putWrites",
      run: (i) => saver.putWrites(writesAt, typicalWrites(i), randomUUID()),
      runFloor: writesFloor.set,
    },
    iterations,
  );

  // getTuple and list on a 20-checkpoint thread whose latest checkpoint has one task's pending writes.
  const readThread = `read-${randomUUID()}`;
  await typicalThread(saver, readThread, 20);
  const latest = threadConfig(readThread);
  const tuple = await saver.getTuple(latest);
  if (!tuple) throw new Error(`${name}.getTuple returned nothing for a thread just written`);
  const getFloor = await floorOps(ctx.client, floorKey, await tupleBytes(tuple));
  await measureVsFloor(
    ctx,
    tables,
    {
      op: "getTuple (latest)",
      bytes: getFloor.bytes,
      floor: "GET same bytes",
      metric: "saver.getTuple",
      run: () => saver.getTuple(latest),
      runFloor: getFloor.get,
    },
    iterations,
  );

  const listTen = async () => {
    const tuples: CheckpointTuple[] = [];
    for await (const t of saver.list(latest, { limit: 10 })) tuples.push(t);
    return tuples;
  };
  const listed = await listTen();
  if (listed.length !== 10) throw new Error(`${name}.list(limit 10) returned ${listed.length} checkpoints`);
  let listBytes = 0;
  for (const t of listed) listBytes += await tupleBytes(t);
  const listFloor = await floorOps(ctx.client, floorKey, listBytes);
  await measureVsFloor(
    ctx,
    tables,
    {
      op: "list (limit 10)",
      bytes: listBytes,
      floor: "GET same bytes",
      metric: "saver.list",
      run: listTen,
      runFloor: listFloor.get,
    },
    ctx.iterations(1000),
  );
  await ctx.client.unlink(floorKey);

  // What LangGraph's serializer alone costs for these payloads: a floor no saver can go under on the client.
  const { channel_values: values, ...bare } = probe.checkpoint;
  const dumpUs = await nodeCpuPerCall(
    () =>
      Promise.all([
        serde.dumpsTyped(bare),
        serde.dumpsTyped(probe.metadata),
        ...Object.keys(probe.newVersions).map((channel) => serde.dumpsTyped(values[channel])),
      ]),
    ctx.iterations(5000),
  );
  const stored = await Promise.all([
    serde.dumpsTyped({ ...tuple.checkpoint, channel_values: {} }),
    serde.dumpsTyped(tuple.metadata ?? {}),
    ...Object.values(tuple.checkpoint.channel_values).map((value) => serde.dumpsTyped(value)),
    ...(tuple.pendingWrites ?? []).map(([, , value]) => serde.dumpsTyped(value)),
  ]);
  const loadUs = await nodeCpuPerCall(
    () => Promise.all(stored.map(([type, bytes]) => serde.loadsTyped(type, bytes))),
    ctx.iterations(5000),
  );
  ctx.recorder.metric("saver.serde.dumpPutUs", dumpUs);
  ctx.recorder.metric("saver.serde.loadTupleUs", loadUs);
  tables.cost.notes.push(
    `LangGraph's serializer (JsonPlusSerializer) alone costs ${dumpUs.toFixed(1)} us of Node CPU to serialize a ` +
      `typical put and ${loadUs.toFixed(1)} us to deserialize the tuple getTuple returns (${stored.length} values).`,
  );

  table.notes.push(
    "Bytes: what the operation moves at least, serialized with LangGraph's serializer (for put: the checkpoint " +
      "without values, its metadata and the changed channels' values; for reads: everything returned).",
    "Floor: a raw ioredis SET or GET of that many bytes on the same connection, interleaved call by call.",
  );
}

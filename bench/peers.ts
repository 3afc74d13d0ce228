/**
 * The peers section: RedisSaver beside SqliteSaver (better-sqlite3, WAL), PostgresSaver (synchronous_commit on) and
 * MemorySaver in one process, every operation interleaved round-robin over the savers so a burst of other work on
 * the machine slows them all alike. Operations: put of an incremental checkpoint (a chat of 21 messages, one new
 * message since the previous checkpoint), getTuple of the latest checkpoint, list(limit 10) over a thread of 1,000
 * checkpoints, and a 10-node graph invoke (a new thread each).
 */
import { randomUUID } from "node:crypto";
import { AIMessage, type BaseMessage, HumanMessage } from "@langchain/core/messages";
import { MemorySaver } from "@langchain/langgraph";
import type { BaseCheckpointSaver, CheckpointTuple } from "@langchain/langgraph-checkpoint";
import type { BenchContext } from "./context.js";
import { tenNodeGraph } from "./graph.js";
import { CheckpointSequence, filler, putPayloadBytes } from "./payloads.js";
import { ensurePeersInstalled, openPostgres, openSqlite, type Peer } from "./peer-savers.js";
import type { Column } from "./results.js";
import { putStep, threadConfig, versionsOf } from "./saver.js";
import { ratio, summarize } from "./stats.js";
import { nowMs, timeRoundRobin } from "./timing.js";

/** Messages in the chat each put carries; the newest one changes with every put. */
export const CHAT_MESSAGES = 21;
const CHAT_HISTORY = Array.from({ length: CHAT_MESSAGES - 1 }, (_, i) => chatMessage(i));
const LIST_THREAD_CHECKPOINTS = 1000;

function chatMessage(i: number): BaseMessage {
  const content = filler(225, i + 1);
  return i % 2 === 0 ? new HumanMessage({ content, id: `m-${i}` }) : new AIMessage({ content, id: `m-${i}` });
}

/** The state of turn `turn`: the same 20 earlier messages and a new one (an append, as a chat grows). */
function chatStep(turn: number): Record<string, unknown> {
  return { messages: [...CHAT_HISTORY, chatMessage(CHAT_MESSAGES + turn)], turn };
}

/** One saver under measurement: its name, the saver and its own chat thread. */
interface Subject {
  readonly name: string;
  readonly saver: BaseCheckpointSaver;
  readonly putThread: string;
  readonly sequence: CheckpointSequence;
  readonly listThread: string;
  readonly graph: ReturnType<typeof tenNodeGraph>;
}

const COLUMNS: readonly Column[] = [
  { key: "op", label: "Operation", kind: "text" },
  { key: "redis", label: "RedisSaver p50 (ms)", kind: "ms" },
  { key: "sqlite", label: "SqliteSaver p50 (ms)", kind: "ms" },
  { key: "postgres", label: "PostgresSaver p50 (ms)", kind: "ms" },
  { key: "memory", label: "MemorySaver p50 (ms)", kind: "ms" },
  { key: "vsSqlite", label: "Redis / SQLite", kind: "ratio" },
  { key: "postgresOverRedis", label: "Postgres / Redis", kind: "ratio" },
  { key: "vsMemory", label: "Redis / Memory", kind: "ratio" },
];

const P99_COLUMNS: readonly Column[] = [
  { key: "op", label: "Operation", kind: "text" },
  { key: "redis", label: "RedisSaver p99 (ms)", kind: "ms" },
  { key: "sqlite", label: "SqliteSaver p99 (ms)", kind: "ms" },
  { key: "postgres", label: "PostgresSaver p99 (ms)", kind: "ms" },
  { key: "memory", label: "MemorySaver p99 (ms)", kind: "ms" },
  { key: "samples", label: "Samples each", kind: "int" },
];

const PAIR_COLUMNS: readonly Column[] = [
  { key: "op", label: "Operation", kind: "text" },
  { key: "redisBySqlite", label: "RedisSaver p50 (ms)", kind: "ms" },
  { key: "sqlite", label: "SqliteSaver p50 (ms)", kind: "ms" },
  { key: "vsSqlite", label: "Redis / SQLite", kind: "ratio" },
  { key: "redisByPostgres", label: "RedisSaver p50 (ms), beside Postgres", kind: "ms" },
  { key: "postgres", label: "PostgresSaver p50 (ms)", kind: "ms" },
  { key: "postgresOverRedis", label: "Postgres / Redis", kind: "ratio" },
];

/** One operation of the section: a call per subject (in subject order), and how long to time it. */
interface Row {
  readonly op: string;
  readonly fns: readonly ((i: number) => Promise<unknown>)[];
  readonly iterations: number;
  readonly maxMs: number;
}

const ROUND_TRIP_COLUMNS: readonly Column[] = [
  { key: "op", label: "Calls of the row", kind: "text" },
  { key: "redis", label: "PING after RedisSaver (ms)", kind: "ms" },
  { key: "sqlite", label: "PING after SqliteSaver (ms)", kind: "ms" },
  { key: "postgres", label: "PING after PostgresSaver (ms)", kind: "ms" },
  { key: "memory", label: "PING after MemorySaver (ms)", kind: "ms" },
  { key: "alone", label: "PINGs back to back (ms)", kind: "ms" },
];

const COLUMN_OF: Record<string, string> = {
  RedisSaver: "redis",
  SqliteSaver: "sqlite",
  PostgresSaver: "postgres",
  MemorySaver: "memory",
};

async function fillThread(subject: Subject, count: number): Promise<void> {
  const sequence = new CheckpointSequence(versionsOf(subject.saver));
  for (let turn = 0; turn < count; turn++)
    await putStep(subject.saver, subject.listThread, sequence.next(chatStep(turn)));
}

export async function peersSection(ctx: BenchContext, redis: BaseCheckpointSaver): Promise<void> {
  const table = ctx.recorder.table("peers", "Peers: RedisSaver beside LangGraph's other checkpointers (p50)", COLUMNS);
  const tail = ctx.recorder.table("peers-p99", "Peers: p99 of the same samples", P99_COLUMNS);
  const failures = ensurePeersInstalled(ctx.progress);
  // BENCH_PEERS=sqlite (or postgres) runs one peer only.
  const wanted = (process.env.BENCH_PEERS ?? "sqlite,postgres").split(",").map((p) => p.trim().toLowerCase());
  const peers: Peer[] = [];
  if (wanted.includes("sqlite")) peers.push(await openSqlite(failures));
  if (wanted.includes("postgres")) peers.push(await openPostgres(failures, ctx.progress));
  try {
    const savers: { name: string; saver: BaseCheckpointSaver }[] = [
      { name: "RedisSaver", saver: redis },
      ...peers.flatMap((peer) => (peer.saver ? [{ name: peer.name, saver: peer.saver }] : [])),
      { name: "MemorySaver", saver: new MemorySaver() },
    ];
    for (const peer of peers) {
      if (peer.saver) table.notes.push(`${peer.name}: ${peer.detail}.`);
      else {
        table.notes.push(`${peer.name} not measured: ${peer.missing}.`);
        ctx.progress.step(`${peer.name} not measured: ${peer.missing}`);
      }
    }
    const run = `${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
    const subjects: Subject[] = savers.map(({ name, saver }) => ({
      name,
      saver,
      putThread: `peers-put-${run}`,
      sequence: new CheckpointSequence(versionsOf(saver)),
      listThread: `peers-list-${run}`,
      graph: tenNodeGraph(saver),
    }));

    // put: each saver appends to its own chat thread; the first put stores the whole chat.
    for (const s of subjects) await putStep(s.saver, s.putThread, s.sequence.next(chatStep(0)));
    const probe = new CheckpointSequence();
    probe.next(chatStep(0));
    const putBytes = await putPayloadBytes(probe.next(chatStep(1)));
    const rows: Row[] = [];
    rows.push({
      op: `put (incremental, ${CHAT_MESSAGES} messages, ${(putBytes / 1024).toFixed(1)} KB)`,
      fns: subjects.map((s) => (i) => putStep(s.saver, s.putThread, s.sequence.next(chatStep(i + 1)))),
      iterations: ctx.iterations(1000),
      maxMs: ctx.durationMs(30_000),
    });

    ctx.progress.step(`filling a ${LIST_THREAD_CHECKPOINTS}-checkpoint thread per saver`);
    for (const s of subjects) await fillThread(s, LIST_THREAD_CHECKPOINTS);
    for (const peer of peers) if (peer.saver && peer.settle) await peer.settle();
    const listTen = (s: Subject) => async () => {
      const tuples: CheckpointTuple[] = [];
      for await (const tuple of s.saver.list(threadConfig(s.listThread), { limit: 10 })) tuples.push(tuple);
      if (tuples.length !== 10) throw new Error(`${s.name}.list(limit 10) returned ${tuples.length} checkpoints`);
      return tuples;
    };
    rows.push({
      op: `getTuple (latest, ${CHAT_MESSAGES} messages)`,
      fns: subjects.map((s) => async () => {
        const tuple = await s.saver.getTuple(threadConfig(s.putThread));
        if (!tuple) throw new Error(`${s.name}.getTuple found nothing`);
      }),
      iterations: ctx.iterations(1000),
      maxMs: ctx.durationMs(30_000),
    });
    rows.push({
      op: `list (limit 10) over ${LIST_THREAD_CHECKPOINTS.toLocaleString("en-US")} checkpoints`,
      fns: subjects.map(listTen),
      iterations: ctx.iterations(300),
      maxMs: ctx.durationMs(30_000),
    });
    let graphThread = 0;
    rows.push({
      op: "10-node graph invoke (new thread)",
      fns: subjects.map(
        (s) => () =>
          s.graph.invoke({ step: 0 }, { configurable: { thread_id: `peers-graph-${run}-${graphThread++}` } }),
      ),
      iterations: ctx.iterations(200),
      maxMs: ctx.durationMs(45_000),
    });

    const metricOf: Record<string, string> = { 0: "put", 1: "getTuple", 2: "list", 3: "invoke" };
    const pairs = pairsTable(ctx, subjects);
    const roundTrips = roundTripTable(ctx, subjects);
    for (const [index, row] of rows.entries()) {
      ctx.progress.step(`${row.op}: ${row.iterations} rounds over ${subjects.map((s) => s.name).join(", ")}`);
      const samples = await timeRoundRobin(row.fns, { iterations: row.iterations, maxMs: row.maxMs });
      const p50: Record<string, number> = {};
      const cells: Record<string, number | string | null> = { op: row.op };
      const tailCells: Record<string, number | string | null> = { op: row.op, samples: samples[0]?.length ?? 0 };
      for (const [k, s] of subjects.entries()) {
        const summary = summarize(samples[k] ?? []);
        p50[s.name] = summary.p50Ms;
        cells[COLUMN_OF[s.name] as string] = summary.p50Ms;
        tailCells[COLUMN_OF[s.name] as string] = summary.p99Ms;
      }
      const redisP50 = p50.RedisSaver ?? Number.NaN;
      cells.vsSqlite = ratio(redisP50, p50.SqliteSaver ?? Number.NaN);
      cells.postgresOverRedis = ratio(p50.PostgresSaver ?? Number.NaN, redisP50);
      cells.vsMemory = ratio(redisP50, p50.MemorySaver ?? Number.NaN);
      table.rows.push(cells);
      tail.rows.push(tailCells);
      // The same operation in pairs right away, so the savers' data is what the row above timed.
      await pairs?.time(row);
      await roundTrips.time(row, metricOf[index] as string);
      const metric = `peers.${metricOf[index]}`;
      ctx.recorder.metric(`${metric}.redisP50Ms`, redisP50);
      if (Number.isFinite(cells.vsSqlite as number))
        ctx.recorder.metric(`${metric}.redisOverSqliteP50`, cells.vsSqlite as number);
      if (Number.isFinite(cells.postgresOverRedis as number)) {
        ctx.recorder.metric(`${metric}.postgresOverRedisP50`, cells.postgresOverRedis as number);
      }
    }
    table.notes.push(
      "Every row interleaves the savers call by call (round-robin, rotating which goes first), in one process on one " +
        "machine: compare the ratios, which a noisy neighbour moves little, more than the milliseconds.",
      "Redis / SQLite below 1.00x: RedisSaver is faster; Postgres / Redis: how many times faster RedisSaver is than " +
        "PostgresSaver.",
      `put: each saver appends a message to its own ${CHAT_MESSAGES}-message chat (LangChain messages, serialized ` +
        `by LangGraph's serializer: ${putBytes.toLocaleString("en-US")} B of checkpoint, metadata and changed values per put).`,
      "MemorySaver keeps everything in this process (no I/O, nothing durable): the lower bound of LangGraph's own work.",
    );
  } finally {
    for (const peer of peers) if (peer.saver) await peer.close().catch(() => undefined);
  }
}

/**
 * The same operations with RedisSaver interleaved with one peer at a time. On a machine of few cores a PostgreSQL
 * server's processes take CPU between the other savers' calls, and RedisSaver, whose every call also needs the
 * redis-server process scheduled, loses more to that than the in-process SqliteSaver does: the pairs show each
 * comparison without a third saver's cost. Undefined without a peer.
 */
function pairsTable(ctx: BenchContext, subjects: readonly Subject[]) {
  const peers = subjects.flatMap((s, k) => (s.name === "SqliteSaver" || s.name === "PostgresSaver" ? [k] : []));
  if (peers.length === 0) return undefined;
  const table = ctx.recorder.table(
    "peers-pairs",
    "Peers in pairs: RedisSaver interleaved with one peer at a time (p50)",
    PAIR_COLUMNS,
  );
  table.notes.push(
    "Each pair interleaves RedisSaver with one peer call by call, with half the calls of the table above, right " +
      "after that row. The targets read the table above (all the savers interleaved, as the issue measures); this " +
      "one shows how much of a gap comes from the other savers' work (the PostgreSQL server's processes share the " +
      "machine's cores) rather than from RedisSaver beside that peer.",
  );
  return {
    async time(row: Row): Promise<void> {
      const cells: Record<string, number | string | null> = { op: row.op };
      for (const k of peers) {
        const peer = subjects[k] as Subject;
        ctx.progress.step(`${row.op}: RedisSaver and ${peer.name} in pairs`);
        // Right after the row of all four: the code paths are compiled already, a short warm-up is enough.
        const [redisSamples = [], peerSamples = []] = await timeRoundRobin([row.fns[0], row.fns[k]] as typeof row.fns, {
          iterations: Math.ceil(row.iterations / 2),
          warmup: 50,
          maxMs: row.maxMs / 2,
        });
        const redisP50 = summarize(redisSamples).p50Ms;
        const peerP50 = summarize(peerSamples).p50Ms;
        Object.assign(
          cells,
          peer.name === "SqliteSaver"
            ? { redisBySqlite: redisP50, sqlite: peerP50, vsSqlite: ratio(redisP50, peerP50) }
            : { redisByPostgres: redisP50, postgres: peerP50, postgresOverRedis: ratio(peerP50, redisP50) },
        );
      }
      table.rows.push(cells);
    },
  };
}

/**
 * A raw Redis round trip (PING on the bench's connection) timed right after each saver's call of a row, in the same
 * rotation, and back to back. Every RedisSaver call includes one such round trip, and on a machine of few cores it
 * costs several times more after other work than back to back (the redis-server process has to be woken where the
 * other savers' work, or the PostgreSQL server's, just ran): this table shows what the peers table's RedisSaver
 * figures carry for it, measured in the same run.
 */
function roundTripTable(ctx: BenchContext, subjects: readonly Subject[]) {
  const table = ctx.recorder.table(
    "peers-round-trip",
    "Peers: a raw Redis round trip (PING) right after each saver's call (p50)",
    ROUND_TRIP_COLUMNS,
  );
  table.notes.push(
    "Each row calls the savers in the rotation of the peers table (a quarter of its calls) and times one PING on " +
      "the bench's connection right after each call, then as many PINGs back to back. A RedisSaver call pays such a " +
      "round trip too; a PING's own work is nothing, so what it takes more than back to back comes from the work " +
      "just before it (the redis-server process woken on a core that other work just used, caches refilled), not " +
      "from the saver measured: the RedisSaver figures of the peers table carry it, SqliteSaver's and " +
      "MemorySaver's calls (in this process, no round trip) do not.",
  );
  const ping = async (): Promise<number> => {
    const start = nowMs();
    await ctx.client.ping();
    return nowMs() - start;
  };
  return {
    async time(row: Row, metric: string): Promise<void> {
      ctx.progress.step(`${row.op}: a PING after each saver's call`);
      const after = subjects.map(() => [] as number[]);
      const alone: number[] = [];
      const rounds = Math.max(20, Math.ceil(row.iterations / 4));
      const deadline = nowMs() + row.maxMs / 4;
      for (let i = 0; i < rounds; i++) {
        for (let k = 0; k < subjects.length; k++) {
          const index = (i + k) % subjects.length;
          await (row.fns[index] as (i: number) => Promise<unknown>)(1e6 + i);
          after[index]?.push(await ping());
        }
        if (nowMs() > deadline && i + 1 >= 20) break;
      }
      // The same number of PINGs back to back, after a few untimed ones: the round trip with nothing before it.
      for (let i = 0; i < 10; i++) await ctx.client.ping();
      for (let i = 0; i < (after[0]?.length ?? 20); i++) alone.push(await ping());
      const cells: Record<string, number | string | null> = { op: row.op, alone: summarize(alone).p50Ms };
      for (const [k, s] of subjects.entries()) {
        const p50 = summarize(after[k] ?? []).p50Ms;
        cells[COLUMN_OF[s.name] as string] = p50;
        ctx.recorder.metric(`peers.${metric}.pingAfter${s.name}P50Ms`, p50);
      }
      ctx.recorder.metric(`peers.${metric}.pingAloneP50Ms`, cells.alone as number);
      table.rows.push(cells);
    },
  };
}

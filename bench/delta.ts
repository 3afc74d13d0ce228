/**
 * Memory and load cost of a DeltaChannel chat thread (issue 14): Redis bytes of the whole thread against the final
 * serialized state, the commands loading its latest state sends (with RedisSaver's server-side walk and with the
 * inherited one-getTuple-per-ancestor walk), the load's p50 against a getTuple on a plain thread of the same
 * length, and the bytes of the run index that deleteForRuns reads.
 */
import { AIMessage, type BaseMessage, HumanMessage } from "@langchain/core/messages";
import { BaseCheckpointSaver } from "@langchain/langgraph";
import { RedisSaver } from "../src/index.js";
import { keyPrefixStart, saverRunThreadsKey, saverThreadKeys } from "../src/keys.js";
import { type Chat, replyGraph } from "./chat-thread.js";
import { countCommands } from "./compare.js";
import type { BenchContext } from "./context.js";
import { cpuPerCall } from "./cpu.js";
import { deleteKeys, memoryUsage, scanKeys } from "./keyspace.js";
import { serde } from "./payloads.js";
import type { Column } from "./results.js";
import { ratio, summarize } from "./stats.js";
import { timeRoundRobin } from "./timing.js";

/** 95 turns: past the snapshot at the 100th update, so loading the latest state walks 134 ancestors. */
export const DELTA_TURNS = 95;
const QUESTION_CHARS = 200;
const ANSWER_CHARS = 400;

const COLUMNS: readonly Column[] = [
  { key: "what", label: "What", kind: "text" },
  { key: "value", label: "Value", kind: "decimal" },
  { key: "unit", label: "Unit", kind: "text" },
  { key: "note", label: "Compared with", kind: "text" },
];

/** Words from a fixed list in a seeded order: text that compresses about as badly as chat does. */
function words(chars: number, seed: number): string {
  const vocabulary = ["order", "refund", "payment", "agent", "fraud", "check", "status", "customer", "invoice", "ship"];
  let state = seed >>> 0 || 1;
  let out = "";
  while (out.length < chars) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out += `${vocabulary[state % vocabulary.length]}${(state >>> 8) % 1000} `;
  }
  return out.slice(0, chars);
}

const answer = (messages: BaseMessage[]) => [
  new AIMessage({ content: words(ANSWER_CHARS, messages.length), id: `a${messages.length}` }),
];
const deltaGraph = (saver: BaseCheckpointSaver, snapshotFrequency?: number): Chat =>
  replyGraph(saver, "delta", answer, snapshotFrequency);
const plainGraph = (saver: BaseCheckpointSaver): Chat => replyGraph(saver, "plain", answer);

/** One run per turn, each with its run id in the config's metadata (as a server passes it). */
async function chat(graph: Chat, threadId: string, turns: number): Promise<void> {
  for (let turn = 0; turn < turns; turn++) {
    const question = new HumanMessage({ content: words(QUESTION_CHARS, 1e6 + turn), id: `q${turn}` });
    await graph.invoke(
      { messages: [question] },
      { configurable: { thread_id: threadId }, metadata: { run_id: `${threadId}-run-${turn}` } },
    );
  }
}

/** The DeltaChannel snapshotFrequency values the sweep weighs against LangGraph's default (100). */
const SWEPT_SNAPSHOT_FREQUENCIES = [10, 25, 50] as const;

const SWEEP_COLUMNS: readonly Column[] = [
  { key: "frequency", label: "snapshotFrequency", kind: "int" },
  { key: "bytes", label: "Thread in Redis", kind: "bytes" },
  { key: "overState", label: "Memory / final state", kind: "ratio" },
  { key: "first", label: "First load p50 (ms)", kind: "ms" },
  { key: "firstRatio", label: "First load / getTuple", kind: "ratio" },
  { key: "againRatio", label: "Load again / getTuple", kind: "ratio" },
  { key: "plainFirst", label: "Plain getTuple, first (ms)", kind: "ms" },
  { key: "plain", label: "Plain getTuple, writer (ms)", kind: "ms" },
];

async function bytesOf(ctx: BenchContext, pattern: string): Promise<number> {
  return memoryUsage(ctx.client, await scanKeys(ctx.client, pattern));
}

/** `makeSaver(name)` gives a RedisSaver with a key prefix of its own, on ctx.client. */
export async function deltaSection(ctx: BenchContext, makeSaver: (name: string) => RedisSaver): Promise<void> {
  const table = ctx.recorder.table(
    "delta",
    `DeltaChannel chat thread: ${DELTA_TURNS} turns (${QUESTION_CHARS}-character question, ${ANSWER_CHARS}-character answer)`,
    COLUMNS,
  );
  const deltaSaver = makeSaver("delta");
  const plainSaver = makeSaver("delta-plain");
  ctx.progress.step(`DeltaChannel and plain MessagesAnnotation threads of ${DELTA_TURNS} turns`);
  const delta = deltaGraph(deltaSaver);
  const plain = plainGraph(plainSaver);
  await chat(delta, "chat", DELTA_TURNS);
  await chat(plain, "chat", DELTA_TURNS);
  const config = { configurable: { thread_id: "chat" } };

  const state = (await delta.getState(config)) as { values: { messages: BaseMessage[] } };
  const [, finalBytes] = await serde.dumpsTyped(state.values.messages);
  const deltaBytes = await bytesOf(ctx, `${keyPrefixStart(deltaSaver.keyPrefix)}*`);
  const plainBytes = await bytesOf(ctx, `${keyPrefixStart(plainSaver.keyPrefix)}*`);
  let checkpoints = 0;
  for await (const _ of deltaSaver.list(config)) checkpoints++;
  const threadKeys = saverThreadKeys(deltaSaver.keyPrefix, "chat");
  const runSetBytes = await memoryUsage(
    ctx.client,
    Array.from({ length: DELTA_TURNS }, (_, turn) => saverRunThreadsKey(deltaSaver.keyPrefix, `chat-run-${turn}`)),
  );
  const byRunBytes = await memoryUsage(ctx.client, [threadKeys.byRun]);
  const overState = ratio(deltaBytes, finalBytes.byteLength);
  const perKey = await Promise.all(
    threadKeys.all.map(
      async (key) => [key.slice(key.lastIndexOf("}") + 1), await memoryUsage(ctx.client, [key])] as const,
    ),
  );
  ctx.recorder.metric("delta.memoryOverState", overState);
  table.rows.push(
    { what: "Final state (messages), serialized", value: finalBytes.byteLength, unit: "B", note: "" },
    {
      what: `DeltaChannel thread in Redis (${checkpoints} checkpoints, every key)`,
      value: deltaBytes,
      unit: "B",
      note: `${overState.toFixed(2)}x the final state (target <= 3x)`,
    },
    {
      what: "Same chat, plain MessagesAnnotation",
      value: plainBytes,
      unit: "B",
      note: `${ratio(plainBytes, finalBytes.byteLength).toFixed(1)}x the final state`,
    },
    ...perKey.map(([role, bytes]) => ({
      what: `of the DeltaChannel thread: key {thread}${role}`,
      value: bytes,
      unit: "B",
      note: `${(bytes / checkpoints).toFixed(0)} B per checkpoint`,
    })),
    {
      what: "of the DeltaChannel thread: run index (byRun)",
      value: byRunBytes / checkpoints,
      unit: "B/checkpoint",
      note: `${byRunBytes} B in all`,
    },
    {
      what: "of the DeltaChannel thread: run hashes (one per run)",
      value: runSetBytes / DELTA_TURNS,
      unit: "B/run",
      note: `${runSetBytes} B in all`,
    },
  );

  // Commands to load the latest state: RedisSaver's walk (a saver without the history cache: a process's first
  // load), the load again by a process that holds the history, and the inherited walk (one getTuple per ancestor).
  ctx.progress.step("commands to load the latest state (MONITOR)");
  const coldSaver = new RedisSaver({ client: ctx.client, keyPrefix: deltaSaver.keyPrefix, deltaHistoryCache: false });
  const cold = deltaGraph(coldSaver);
  await cold.getState(config); // the saver's first command checks the server (durability): not a load's cost
  const load = await countCommands(ctx.client, () => cold.getState(config), 5);
  await delta.getState(config);
  const heldLoad = await countCommands(ctx.client, () => delta.getState(config), 5);
  ctx.recorder.metric("delta.loadCommands", Math.max(load.sent, heldLoad.sent));
  const inherited = deltaGraph(
    new Proxy(deltaSaver, {
      get(target, property, receiver) {
        if (property === "getDeltaChannelHistory") {
          return (options: Parameters<RedisSaver["getDeltaChannelHistory"]>[0]) =>
            BaseCheckpointSaver.prototype.getDeltaChannelHistory.call(target, options);
        }
        const value = Reflect.get(target, property, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }),
  );
  const inheritedLoad = await countCommands(ctx.client, () => inherited.getState(config), 2);
  table.rows.push(
    {
      what: "Commands sent to load the latest state (getState)",
      value: load.sent,
      unit: "commands",
      note: `target <= 3; ${load.inScripts.toFixed(0)} run inside the scripts`,
    },
    {
      what: "Same load again by a process that holds the history (getState)",
      value: heldLoad.sent,
      unit: "commands",
      note: `${heldLoad.inScripts.toFixed(0)} run inside the scripts`,
    },
    {
      what: "Same load through the inherited walk (one getTuple per ancestor)",
      value: inheritedLoad.sent,
      unit: "commands",
      note: "what getDeltaChannelHistory replaces",
    },
  );

  // Load p50: what a graph reads for the DeltaChannel thread (latest checkpoint, then the channel's history)
  // against a getTuple of the plain thread's latest checkpoint, each side in the same situation: a process that
  // loads the thread for the first time (the walk back to the snapshot; every plain value over the wire), and the
  // thread's writer (the history it holds; the plain values it wrote last, not sent again).
  ctx.progress.step("load latency against getTuple on a plain thread of the same length");
  const loads = await loadLatencies(ctx, coldSaver, deltaSaver, plainSaver, ctx.iterations(300, 30));
  const { coldLoad, heldLoad: heldLoadTime, plainLoad, plainFirstLoad, coldRatio, coldOverWriter, heldRatio } = loads;
  ctx.recorder.metric("delta.coldLoadOverPlainGetTupleP50", coldRatio);
  ctx.recorder.metric("delta.coldLoadOverWriterGetTupleP50", coldOverWriter);
  ctx.recorder.metric("delta.loadOverPlainGetTupleP50", heldRatio);
  const cpuCalls = ctx.iterations(200, 20);
  const coldCpu = await cpuPerCall(ctx.client, loadLatest(coldSaver), cpuCalls);
  const heldCpu = await cpuPerCall(ctx.client, loadLatest(deltaSaver), cpuCalls);
  table.rows.push(
    {
      what: "Load latest DeltaChannel state, first load in a process, p50 (getTuple + getDeltaChannelHistory)",
      value: coldLoad.p50Ms,
      unit: "ms",
      note:
        `${coldRatio.toFixed(2)}x a first getTuple of the plain thread (target <= 2x); ` +
        `${coldOverWriter.toFixed(2)}x its writer's`,
    },
    {
      what: "Same load by the thread's writer (history cache), p50",
      value: heldLoadTime.p50Ms,
      unit: "ms",
      note: `${heldRatio.toFixed(2)}x the plain thread's writer's getTuple (target <= 2x)`,
    },
    {
      what: "getTuple on the plain thread by a saver new to it, p50",
      value: plainFirstLoad.p50Ms,
      unit: "ms",
      note: "every value over the wire",
    },
    {
      what: "getTuple on the plain thread by its writer, p50",
      value: plainLoad.p50Ms,
      unit: "ms",
      note: "the values it wrote last are not sent again",
    },
    {
      what: "Redis CPU per load: first load / load again",
      value: coldCpu.redisUs,
      unit: "us",
      note: `${heldCpu.redisUs.toFixed(0)} us again; Node CPU ${coldCpu.nodeUs.toFixed(0)} / ${heldCpu.nodeUs.toFixed(0)} us`,
    },
  );
  ctx.progress.step("getStateHistory of the whole thread");
  const states = await stateHistoryLatencies(ctx, deltaSaver.keyPrefix, plainSaver.keyPrefix);
  ctx.recorder.metric("delta.stateHistoryOverPlainP50", states.heldRatio);
  table.rows.push(
    {
      what: `getStateHistory of the whole thread (${checkpoints} states) by a new saver, p50`,
      value: states.held.p50Ms,
      unit: "ms",
      note: `${states.heldRatio.toFixed(2)}x the plain thread's; ${states.cold.p50Ms.toFixed(0)} ms (${states.coldRatio.toFixed(2)}x) without the history cache`,
    },
    {
      what: "getStateHistory of the plain thread by a new saver, p50",
      value: states.plain.p50Ms,
      unit: "ms",
      note: "",
    },
  );
  table.notes.push(
    "Bytes are MEMORY USAGE summed over every key the saver wrote for the thread (run hashes included).",
    "getStateHistory loads each state's DeltaChannel history: a new saver walks from the newest state down to the " +
      "snapshot once, and cuts each older state's history from the one it holds; without the history cache every " +
      "state walks back to the snapshot.",
    "The DeltaChannel snapshot comes every 100 updates (LangGraph's default snapshotFrequency): after 95 turns " +
      "(190 updates) the latest state is the snapshot at update 100 plus the writes of the 134 ancestors since.",
  );

  await snapshotFrequencySweep(ctx, makeSaver, plainSaver, finalBytes.byteLength, {
    frequency: 100,
    bytes: deltaBytes,
    overState,
    first: coldLoad.p50Ms,
    firstRatio: coldRatio,
    againRatio: heldRatio,
    plainFirst: plainFirstLoad.p50Ms,
    plain: plainLoad.p50Ms,
  });
}

const chatConfig = { configurable: { thread_id: "chat" } };

/** What a graph reads for the DeltaChannel thread: its latest checkpoint, then the channel's history. */
const loadLatest = (saver: RedisSaver) => async () => {
  const tuple = await saver.getTuple(chatConfig);
  await saver.getDeltaChannelHistory({ config: tuple?.config ?? chatConfig, channels: ["messages"] });
};

/**
 * Load p50 of the DeltaChannel thread against a getTuple of the plain thread's latest checkpoint, interleaved, like
 * for like: by a process that loads the thread for the first time (`cold`: the walk back to the snapshot) against a
 * saver that never wrote the plain thread (`plainFirst`: every value comes over the wire), and by one that wrote it
 * (`held`: the history it holds) against the plain thread's writer (`plain`: the channel values it wrote last are
 * not sent again, see readCheckpoints). `coldOverWriter` weighs a first load against the writer's getTuple.
 */
async function loadLatencies(
  ctx: BenchContext,
  cold: RedisSaver,
  held: RedisSaver,
  plain: RedisSaver,
  iterations: number,
) {
  const plainFirst = new RedisSaver({ client: ctx.client, keyPrefix: plain.keyPrefix });
  const [coldSamples = [], heldSamples = [], plainSamples = [], plainFirstSamples = []] = await timeRoundRobin(
    [loadLatest(cold), loadLatest(held), () => plain.getTuple(chatConfig), () => plainFirst.getTuple(chatConfig)],
    // 150 rounds first: in a process that just wrote the threads, the first few hundred loads run 20 to 35% slower.
    { iterations, warmup: ctx.iterations(150, 15), maxMs: ctx.durationMs(30_000) },
  );
  const coldLoad = summarize(coldSamples);
  const heldLoad = summarize(heldSamples);
  const plainLoad = summarize(plainSamples);
  const plainFirstLoad = summarize(plainFirstSamples);
  return {
    coldLoad,
    heldLoad,
    plainLoad,
    plainFirstLoad,
    coldRatio: ratio(coldLoad.p50Ms, plainFirstLoad.p50Ms),
    coldOverWriter: ratio(coldLoad.p50Ms, plainLoad.p50Ms),
    heldRatio: ratio(heldLoad.p50Ms, plainLoad.p50Ms),
  };
}

/**
 * getStateHistory over every state of the DeltaChannel thread by a saver new to it (with the history cache, and
 * without), against the plain thread's by a saver new to it, interleaved.
 */
async function stateHistoryLatencies(ctx: BenchContext, deltaPrefix: string, plainPrefix: string) {
  const readAll = (graph: Chat) => async () => {
    for await (const _ of graph.getStateHistory(chatConfig));
  };
  const fresh = (deltaHistoryCache?: false) => () =>
    readAll(deltaGraph(new RedisSaver({ client: ctx.client, keyPrefix: deltaPrefix, deltaHistoryCache })))();
  const freshPlain = () => readAll(plainGraph(new RedisSaver({ client: ctx.client, keyPrefix: plainPrefix })))();
  const [heldSamples = [], coldSamples = [], plainSamples = []] = await timeRoundRobin(
    [fresh(), fresh(false), freshPlain],
    { iterations: ctx.iterations(10, 3), maxMs: ctx.durationMs(40_000) },
  );
  const held = summarize(heldSamples);
  const cold = summarize(coldSamples);
  const plainTimes = summarize(plainSamples);
  return {
    held,
    cold,
    plain: plainTimes,
    heldRatio: ratio(held.p50Ms, plainTimes.p50Ms),
    coldRatio: ratio(cold.p50Ms, plainTimes.p50Ms),
  };
}

/**
 * The same chat with a DeltaChannel snapshot more often: a first load walks fewer ancestors, and the thread stores
 * more of the messages twice (in the snapshots and in the writes). `defaultRow` is the main table's thread (100).
 */
async function snapshotFrequencySweep(
  ctx: BenchContext,
  makeSaver: (name: string) => RedisSaver,
  plainSaver: RedisSaver,
  finalBytes: number,
  defaultRow: Record<string, number>,
): Promise<void> {
  const table = ctx.recorder.table(
    "delta-snapshots",
    `DeltaChannel snapshotFrequency: memory against first-load cost (${DELTA_TURNS} turns)`,
    SWEEP_COLUMNS,
  );
  for (const frequency of SWEPT_SNAPSHOT_FREQUENCIES) {
    ctx.progress.step(`DeltaChannel chat with snapshotFrequency ${frequency}`);
    const saver = makeSaver(`delta-f${frequency}`);
    await chat(deltaGraph(saver, frequency), "chat", DELTA_TURNS);
    const cold = new RedisSaver({ client: ctx.client, keyPrefix: saver.keyPrefix, deltaHistoryCache: false });
    // The loaded state must be the chat's: a number for a wrong load would mean nothing.
    const state = (await deltaGraph(cold, frequency).getState(chatConfig)) as { values: { messages: BaseMessage[] } };
    const [, stateBytes] = await serde.dumpsTyped(state.values.messages);
    if (stateBytes.byteLength !== finalBytes) {
      throw new Error(`snapshotFrequency ${frequency}: the loaded state differs from the chat's`);
    }
    const bytes = await bytesOf(ctx, `${keyPrefixStart(saver.keyPrefix)}*`);
    const loads = await loadLatencies(ctx, cold, saver, plainSaver, ctx.iterations(200, 20));
    const overState = ratio(bytes, finalBytes);
    ctx.recorder.metric(`delta.snapshotEvery${frequency}.memoryOverState`, overState);
    ctx.recorder.metric(`delta.snapshotEvery${frequency}.coldLoadOverPlainGetTupleP50`, loads.coldRatio);
    table.rows.push({
      frequency,
      bytes,
      overState,
      first: loads.coldLoad.p50Ms,
      firstRatio: loads.coldRatio,
      againRatio: loads.heldRatio,
      plainFirst: loads.plainFirstLoad.p50Ms,
      plain: loads.plainLoad.p50Ms,
    });
    await deleteKeys(ctx.client, `${keyPrefixStart(saver.keyPrefix)}*`);
  }
  table.rows.push(defaultRow);
  table.notes.push(
    "The same chat as above (run ids included) with the DeltaChannel's snapshotFrequency set in the graph; 100 is " +
      "LangGraph's default, the thread of the table above. Each row's loads and getTuple are timed interleaved.",
    "First load / getTuple: against a getTuple of the plain thread by a saver new to it; load again / getTuple: " +
      "the DeltaChannel thread's writer against the plain thread's writer (p50 of each in the columns on the right).",
    "A snapshot is stored as a delta against an earlier one (blobDeltas), so a snapshot costs about the messages " +
      "added since, which are also stored once as writes; a first load walks back to the last snapshot.",
  );
}

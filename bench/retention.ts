/**
 * Memory with retention (`retention: { keepLast: 10 }`): one thread grown from 100 to 1,000 turns and weighed with
 * MEMORY USAGE over every key of the thread at both lengths, for
 * - a chat that keeps a window of its last 20 messages (its state stops growing): the bytes should stay flat;
 * - a plain MessagesAnnotation chat (its state grows with every turn) and a DeltaChannel chat: the history is
 *   trimmed, so the bytes should grow only with the state itself (memory / final state flat).
 * Plus the p50 of one turn (3 puts) with retention against the same chat without it.
 */
import { randomUUID } from "node:crypto";
import { AIMessage, type BaseMessage, HumanMessage, RemoveMessage } from "@langchain/core/messages";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import { RedisSaver } from "../src/index.js";
import { keyPrefixStart, saverThreadKeys } from "../src/keys.js";
import { checkpointCount } from "../src/saver/checkpoint-count.js";
import { ANSWER_CHARS, type Chat, QUESTION_CHARS, randomWords, replyGraph, seededRandom } from "./chat-thread.js";
import type { BenchContext } from "./context.js";
import { deleteKeys, memoryUsage, scanKeys } from "./keyspace.js";
import { serde } from "./payloads.js";
import type { Column } from "./results.js";
import { ratio } from "./stats.js";

export const RETENTION_KEEP_LAST = 10;
const LENGTHS = [100, 1000] as const;
const WINDOW = 20;

const COLUMNS: readonly Column[] = [
  { key: "what", label: "Thread", kind: "text" },
  { key: "turns", label: "Turns", kind: "int" },
  { key: "checkpoints", label: "Checkpoints kept", kind: "int" },
  { key: "redis", label: "Redis memory (B)", kind: "bytes" },
  { key: "state", label: "Final state (B)", kind: "bytes" },
  { key: "ratio", label: "Memory / final state", kind: "ratio" },
  { key: "growth", label: "Memory vs 100 turns", kind: "ratio" },
  { key: "turnMs", label: "Turn p50 (ms)", kind: "ms" },
];

interface Kind {
  readonly id: string;
  readonly name: string;
  readonly graph: (saver: BaseCheckpointSaver, random: () => number) => Chat;
}

const reply = (random: () => number, count: number) =>
  new AIMessage({ content: randomWords(random, ANSWER_CHARS), id: `a${count}` });

const KINDS: readonly Kind[] = [
  {
    id: "window",
    name: `chat keeping its last ${WINDOW} messages`,
    graph: (saver, random) =>
      replyGraph(saver, "plain", (messages) => {
        const drop = messages.slice(0, Math.max(0, messages.length + 1 - WINDOW));
        return [...drop.map((m) => new RemoveMessage({ id: m.id as string })), reply(random, messages.length)];
      }),
  },
  {
    id: "plain",
    name: "plain MessagesAnnotation chat",
    graph: (saver, random) => replyGraph(saver, "plain", (messages) => [reply(random, messages.length)]),
  },
  {
    id: "deltaChannel",
    name: "DeltaChannel messages chat",
    graph: (saver, random) => replyGraph(saver, "delta", (messages) => [reply(random, messages.length)]),
  },
];

/** Runs turns [from, to) and returns each turn's duration in ms. */
async function turns(chat: Chat, random: () => number, from: number, to: number): Promise<number[]> {
  const times: number[] = [];
  for (let turn = from; turn < to; turn++) {
    const question = new HumanMessage({ content: randomWords(random, QUESTION_CHARS), id: `q${turn}` });
    const started = performance.now();
    // Each turn a run of its own, with its id in the metadata as a LangGraph server passes it.
    await chat.invoke(
      { messages: [question] },
      { configurable: { thread_id: "chat" }, metadata: { run_id: randomUUID() } },
    );
    times.push(performance.now() - started);
  }
  return times;
}

const p50 = (times: readonly number[]) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] ?? 0;

export async function retentionSection(ctx: BenchContext): Promise<void> {
  const table = ctx.recorder.table(
    "retention",
    `Redis memory of one thread with retention: { keepLast: ${RETENTION_KEEP_LAST} }, grown from 100 to 1,000 turns`,
    COLUMNS,
  );
  for (const kind of KINDS) {
    const keyPrefix = ctx.keyPrefix(`retention-${kind.id}`);
    const offPrefix = ctx.keyPrefix(`retention-${kind.id}-off`);
    const random = seededRandom(7);
    const chat = kind.graph(
      new RedisSaver({ client: ctx.client, keyPrefix, retention: { keepLast: RETENTION_KEEP_LAST } }),
      random,
    );
    const offRandom = seededRandom(7);
    const off = kind.graph(new RedisSaver({ client: ctx.client, keyPrefix: offPrefix }), offRandom);
    const weigh = async (prefix: string) => ({
      bytes: await memoryUsage(ctx.client, await scanKeys(ctx.client, `${keyPrefixStart(prefix)}*`)),
      checkpoints: await checkpointCount(ctx.client, saverThreadKeys(prefix, "chat").byNamespace),
    });
    const stateBytes = async (graph: Chat) => {
      const state = (await graph.getState({ configurable: { thread_id: "chat" } })) as {
        values: { messages: BaseMessage[] };
      };
      return (await serde.dumpsTyped(state.values.messages))[1].byteLength;
    };

    // The first 100 turns with and without retention, one turn of each in turn, so both see the same machine.
    ctx.progress.step(`${kind.name}: 100 turns with keepLast ${RETENTION_KEEP_LAST} and without, interleaved`);
    const times: number[] = [];
    const offTimes: number[] = [];
    for (let turn = 0; turn < LENGTHS[0]; turn++) {
      times.push(...(await turns(chat, random, turn, turn + 1)));
      offTimes.push(...(await turns(off, offRandom, turn, turn + 1)));
    }
    const offWeight = await weigh(offPrefix);
    const offState = await stateBytes(off);
    table.rows.push({
      what: `${kind.name}, no retention`,
      turns: LENGTHS[0],
      checkpoints: offWeight.checkpoints,
      redis: offWeight.bytes,
      state: offState,
      ratio: ratio(offWeight.bytes, offState),
      growth: 0,
      turnMs: p50(offTimes),
    });
    await deleteKeys(ctx.client, `${keyPrefixStart(offPrefix)}*`);

    let first = 0;
    let last = 0;
    let runTimes = times;
    let done: number = LENGTHS[0];
    for (const length of LENGTHS) {
      if (length > done) {
        ctx.progress.step(`${kind.name}, keepLast ${RETENTION_KEEP_LAST}, to ${length} turns`);
        runTimes = await turns(chat, random, done, length);
        done = length;
      }
      const { bytes, checkpoints } = await weigh(keyPrefix);
      const state = await stateBytes(chat);
      if (first === 0) first = bytes;
      last = bytes;
      table.rows.push({
        what: kind.name,
        turns: length,
        checkpoints,
        redis: bytes,
        state,
        ratio: ratio(bytes, state),
        growth: ratio(bytes, first),
        turnMs: p50(runTimes),
      });
      ctx.recorder.metric(`retention.${kind.id}.${length}.KiB`, bytes / 1024);
    }
    ctx.recorder.metric(`retention.${kind.id}.growth`, ratio(last, first));
    ctx.recorder.metric(`retention.${kind.id}.turnP50Ratio`, ratio(p50(times), p50(offTimes)));
    await deleteKeys(ctx.client, `${keyPrefixStart(keyPrefix)}*`);
  }
  table.notes.push(
    `Each turn: a ${QUESTION_CHARS}-character question and a ${ANSWER_CHARS}-character answer of random words, ` +
      "3 checkpoints per turn, each turn a run with a run id of 36 characters in its metadata. Redis memory is " +
      "MEMORY USAGE (SAMPLES 0) summed over every key of the thread, the runs' hashes included.",
    `keepLast ${RETENTION_KEEP_LAST} keeps the newest ${RETENTION_KEEP_LAST} checkpoints and what they need: a ` +
      "DeltaChannel chat also keeps the ancestors back to its last snapshot (every 100 updates), so it holds more.",
    "The window chat's state stops growing, so its memory should be flat (target: within 1.2x from 100 to 1,000 " +
      "turns); the other two grow with their state, so their memory / final state should stay flat instead.",
    "Turn p50 at 100 turns: the first 100 turns, run one turn with retention and one without in turn; at 1,000 " +
      "turns: turns 100 to 1,000 (larger state).",
  );
}

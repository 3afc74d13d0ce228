/**
 * The graph comparison: the same 10-node graph invoked with RedisSaver and with MemorySaver (LangGraph's in-process
 * saver, the no-I/O baseline), interleaved call by call. Each invoke starts a new thread, as a new task would.
 */

import { Annotation, END, MemorySaver, START, StateGraph } from "@langchain/langgraph";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { countCommands } from "./compare.js";
import type { BenchContext } from "./context.js";
import { cpuPerCall } from "./cpu.js";
import type { Column } from "./results.js";
import { ratio, summarize } from "./stats.js";
import { timeEach, timeInterleaved } from "./timing.js";

export const GRAPH_NODES = 10;

const State = Annotation.Root({
  step: Annotation<number>({ reducer: (_, next) => next, default: () => 0 }),
  trail: Annotation<string[]>({ reducer: (left, right) => left.concat(right), default: () => [] }),
});

/** How long each node of the I/O-bound variant waits, standing in for a tool or model call. */
export const NODE_WAIT_MS = 1;

/**
 * START -> n0 -> n1 -> ... -> n9 -> END; each node bumps a counter and appends to a list. With `nodeWaitMs`, each
 * node first waits that long on a timer, as a node that calls a model or a tool waits on I/O.
 */
export function tenNodeGraph(checkpointer: BaseCheckpointSaver | undefined, nodeWaitMs = 0) {
  const builder = new StateGraph(State);
  for (let i = 0; i < GRAPH_NODES; i++) {
    const update = (state: typeof State.State) => ({ step: state.step + 1, trail: [`n${i}`] });
    builder.addNode(
      `n${i}`,
      nodeWaitMs > 0
        ? async (state: typeof State.State) => {
            await new Promise((resolve) => setTimeout(resolve, nodeWaitMs));
            return update(state);
          }
        : update,
    );
  }
  // addEdge is typed against the declared node names; the names here are built in a loop.
  const edges = builder as unknown as { addEdge(from: string, to: string): unknown };
  edges.addEdge(START, "n0");
  for (let i = 1; i < GRAPH_NODES; i++) edges.addEdge(`n${i - 1}`, `n${i}`);
  edges.addEdge(`n${GRAPH_NODES - 1}`, END);
  return builder.compile(checkpointer ? { checkpointer } : {});
}

const COLUMNS: readonly Column[] = [
  { key: "checkpointer", label: "Checkpointer", kind: "text" },
  { key: "n", label: "Invokes", kind: "int" },
  { key: "p50", label: "p50 (ms)", kind: "ms" },
  { key: "p99", label: "p99 (ms)", kind: "ms" },
  { key: "vsMemory", label: "p50 vs MemorySaver", kind: "ratio" },
  { key: "nodeMs", label: "Node CPU/invoke (ms)", kind: "ms" },
  { key: "redisMs", label: "Redis CPU/invoke (ms)", kind: "ms" },
];

/**
 * Measures `subject` (RedisSaver, when given) against MemorySaver, and MemorySaver against no checkpointer at all
 * (what checkpointing costs LangGraph itself).
 */
export async function graphSection(
  ctx: BenchContext,
  subject?: { readonly name: string; readonly saver: BaseCheckpointSaver },
): Promise<void> {
  const table = ctx.recorder.table("graph", `${GRAPH_NODES}-node graph invoke (new thread each)`, COLUMNS);
  const none = tenNodeGraph(undefined);
  const memory = tenNodeGraph(new MemorySaver());
  let thread = 0;
  const invoke = (graph: ReturnType<typeof tenNodeGraph>) => () =>
    graph.invoke({ step: 0 }, { configurable: { thread_id: `graph-${thread++}` } });

  const iterations = ctx.iterations(300);
  ctx.progress.step(`no checkpointer vs MemorySaver, ${iterations} invokes each`);
  const base = await timeInterleaved(invoke(memory), invoke(none), { iterations, maxMs: ctx.durationMs(30_000) });
  const memorySummary = summarize(base.subject);
  const noneSummary = summarize(base.floor);
  const cpuCalls = ctx.iterations(100);
  const noneCpu = await cpuPerCall(ctx.client, invoke(none), cpuCalls);
  const memoryCpu = await cpuPerCall(ctx.client, invoke(memory), cpuCalls);
  table.rows.push({
    checkpointer: "none",
    n: noneSummary.n,
    p50: noneSummary.p50Ms,
    p99: noneSummary.p99Ms,
    vsMemory: ratio(noneSummary.p50Ms, memorySummary.p50Ms),
    nodeMs: noneCpu.nodeUs / 1000,
    redisMs: noneCpu.redisUs / 1000,
  });
  table.rows.push({
    checkpointer: "MemorySaver",
    n: memorySummary.n,
    p50: memorySummary.p50Ms,
    p99: memorySummary.p99Ms,
    vsMemory: 1,
    nodeMs: memoryCpu.nodeUs / 1000,
    redisMs: memoryCpu.redisUs / 1000,
  });

  if (subject) {
    ctx.progress.step(`${subject.name} vs MemorySaver, ${iterations} invokes each`);
    const redis = tenNodeGraph(subject.saver);
    const paired = await timeInterleaved(invoke(redis), invoke(memory), {
      iterations,
      maxMs: ctx.durationMs(60_000),
    });
    const redisSummary = summarize(paired.subject);
    const memoryPaired = summarize(paired.floor);
    const overhead = ratio(redisSummary.p50Ms, memoryPaired.p50Ms);
    const redisCpu = await cpuPerCall(ctx.client, invoke(redis), cpuCalls);
    table.rows.push({
      checkpointer: subject.name,
      n: redisSummary.n,
      p50: redisSummary.p50Ms,
      p99: redisSummary.p99Ms,
      vsMemory: overhead,
      nodeMs: redisCpu.nodeUs / 1000,
      redisMs: redisCpu.redisUs / 1000,
    });
    ctx.recorder.metric("graph.redisOverMemoryP50", overhead);

    // The physical limit: MemorySaver's time plus one bare round trip (PING p50) per command the saver sent.
    const commands = await countCommands(ctx.client, invoke(redis), 20);
    const ping = summarize(await timeEach(() => ctx.client.ping(), { iterations: ctx.iterations(500) }));
    const floorMs = memoryPaired.p50Ms + commands.sent * ping.p50Ms;
    table.rows.push({
      checkpointer: `floor: MemorySaver + ${commands.sent.toFixed(0)} PINGs`,
      n: null,
      p50: floorMs,
      p99: null,
      vsMemory: ratio(floorMs, memoryPaired.p50Ms),
      nodeMs: null,
      redisMs: null,
    });
    ctx.recorder.metric("graph.commandsSentPerInvoke", commands.sent);

    // The same graph with nodes that wait on I/O, as real ones do: the event loop then reads the saver's replies
    // while a node waits, so the chained puts no longer pile up at the end of the invoke.
    ctx.progress.step(`nodes waiting ${NODE_WAIT_MS} ms each: ${subject.name} vs MemorySaver`);
    const ioRedis = tenNodeGraph(subject.saver, NODE_WAIT_MS);
    const ioMemory = tenNodeGraph(new MemorySaver(), NODE_WAIT_MS);
    const ioPaired = await timeInterleaved(invoke(ioRedis), invoke(ioMemory), {
      iterations: ctx.iterations(200),
      maxMs: ctx.durationMs(30_000),
    });
    const ioSubject = summarize(ioPaired.subject);
    const ioFloor = summarize(ioPaired.floor);
    const ioOverhead = ratio(ioSubject.p50Ms, ioFloor.p50Ms);
    for (const [name, summary, vsMemory] of [
      [`MemorySaver, nodes waiting ${NODE_WAIT_MS} ms`, ioFloor, 1],
      [`${subject.name}, nodes waiting ${NODE_WAIT_MS} ms`, ioSubject, ioOverhead],
    ] as const) {
      table.rows.push({
        checkpointer: name,
        n: summary.n,
        p50: summary.p50Ms,
        p99: summary.p99Ms,
        vsMemory,
        nodeMs: null,
        redisMs: null,
      });
    }
    ctx.recorder.metric("graph.ioBoundRedisOverMemoryP50", ioOverhead);
    ctx.recorder.metric("graph.floorOverMemoryP50", ratio(floorMs, memoryPaired.p50Ms));
    table.notes.push(
      `${subject.name} is compared with MemorySaver invokes interleaved with it (MemorySaver p50 in that run: ` +
        `${memoryPaired.p50Ms.toFixed(2)} ms).`,
      `${subject.name} sent ${commands.sent.toFixed(1)} commands per invoke (and ran ${commands.inScripts.toFixed(1)} ` +
        `inside Lua); the floor row charges each sent command one PING round trip (p50 ${ping.p50Ms.toFixed(3)} ms), ` +
        "as if none overlapped: what these commands would cost at the floor, with no client or script work.",
      `Nodes waiting ${NODE_WAIT_MS} ms: the same graph, each node first awaiting a ${NODE_WAIT_MS} ms timer (a ` +
        "stand-in for a model or tool call), the two savers interleaved; their p50 vs MemorySaver is against that " +
        "MemorySaver row. The nodes that do nothing above are the worst case for a networked saver: the graph never " +
        "yields to the event loop, so the replies to its chained puts are read only at the end.",
    );
  }
  table.notes.push(
    `Each invoke makes ${GRAPH_NODES + 2} put and ${GRAPH_NODES + 1} putWrites calls, with LangGraph's default ` +
      `durability ("async": checkpoints are written in the background and awaited before invoke returns).`,
  );
}

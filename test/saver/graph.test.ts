/**
 * RedisSaver under real LangGraph graphs: crash and resume, a failing parallel branch, interrupts, subgraphs,
 * time travel and state history, on both deployment kinds. Node executions are counted to prove that resuming
 * never re-runs finished work.
 */
import { Annotation, Command, END, interrupt, START, StateGraph } from "@langchain/langgraph";
import { RedisSaver } from "../../src/index.js";
import { targets, testPrefix } from "../helpers/redis.js";

const State = Annotation.Root({
  log: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

/** Polls `check` until it holds (bounded; the bound is a safety net, not an assertion on timing). */
async function waitFor(check: () => Promise<boolean | undefined>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function threadConfig(threadId = testPrefix("thread")) {
  return { configurable: { thread_id: threadId } };
}

describe.each(targets)("RedisSaver in graphs ($name)", ({ connect }) => {
  let saver: RedisSaver;

  beforeAll(() => {
    saver = new RedisSaver({ client: connect(), keyPrefix: testPrefix("graph") });
  });

  it("resumes a run that failed in a node without re-running the nodes that finished", async () => {
    const runs = { a: 0, b: 0, c: 0 };
    let failB = true;
    const graph = new StateGraph(State)
      .addNode("a", () => {
        runs.a++;
        return { log: ["a"] };
      })
      .addNode("b", () => {
        runs.b++;
        if (failB) throw new Error("b crashed");
        return { log: ["b"] };
      })
      .addNode("c", () => {
        runs.c++;
        return { log: ["c"] };
      })
      .addEdge(START, "a")
      .addEdge("a", "b")
      .addEdge("b", "c")
      .addEdge("c", END)
      .compile({ checkpointer: saver });
    const config = threadConfig();

    await expect(graph.invoke({ log: [] }, config)).rejects.toThrow("b crashed");
    expect(runs).toEqual({ a: 1, b: 1, c: 0 });
    const stuck = await graph.getState(config);
    expect(stuck.next).toEqual(["b"]);
    expect(stuck.tasks[0]?.error).toBeDefined();

    failB = false;
    const result = await graph.invoke(null, config);
    expect(result.log).toEqual(["a", "b", "c"]);
    expect(runs).toEqual({ a: 1, b: 2, c: 1 });
  });

  it("keeps a finished parallel branch when its sibling fails, and re-runs only the sibling", async () => {
    const runs = { fast: 0, failing: 0, join: 0 };
    let fail = true;
    const config = threadConfig();
    const graph = new StateGraph(State)
      .addNode("fast", () => {
        runs.fast++;
        return { log: ["fast"] };
      })
      .addNode("failing", async () => {
        runs.failing++;
        // Fail only once the finished sibling's writes are in Redis, so the failure happens after it completed.
        if (fail) {
          await waitFor(async () => (await saver.getTuple(config))?.pendingWrites?.some(([, ch]) => ch === "log"));
          throw new Error("branch failed");
        }
        return { log: ["failing"] };
      })
      .addNode("join", () => {
        runs.join++;
        return { log: ["join"] };
      })
      .addEdge(START, "fast")
      .addEdge(START, "failing")
      .addEdge(["fast", "failing"], "join")
      .addEdge("join", END)
      .compile({ checkpointer: saver });

    await expect(graph.invoke({ log: [] }, config)).rejects.toThrow("branch failed");
    const pending = await saver.getTuple(config);
    const fastWrites = pending?.pendingWrites?.filter(([, channel]) => channel === "log");
    expect(fastWrites?.map(([, , value]) => value)).toEqual([["fast"]]);
    expect(pending?.pendingWrites?.some(([, channel]) => channel === "__error__")).toBe(true);

    fail = false;
    const result = await graph.invoke(null, config);
    expect([...result.log].sort()).toEqual(["failing", "fast", "join"]);
    expect(runs).toEqual({ fast: 1, failing: 2, join: 1 });
  });

  it("stops at interrupt() and resumes with Command({ resume })", async () => {
    const runs = { before: 0, ask: 0 };
    const graph = new StateGraph(State)
      .addNode("before", () => {
        runs.before++;
        return { log: ["before"] };
      })
      .addNode("ask", () => {
        runs.ask++;
        const answer = interrupt<string, string>("approve the refund?");
        return { log: [`answer:${answer}`] };
      })
      .addEdge(START, "before")
      .addEdge("before", "ask")
      .addEdge("ask", END)
      .compile({ checkpointer: saver });
    const config = threadConfig();

    const first = await graph.invoke({ log: [] }, config);
    const interrupts = (first as { __interrupt__?: { value: unknown }[] }).__interrupt__;
    expect(interrupts?.[0]?.value).toBe("approve the refund?");
    const paused = await graph.getState(config);
    expect(paused.next).toEqual(["ask"]);
    expect(paused.tasks[0]?.interrupts[0]?.value).toBe("approve the refund?");

    const resumed = await graph.invoke(new Command({ resume: "yes" }), config);
    expect(resumed.log).toEqual(["before", "answer:yes"]);
    expect(runs).toEqual({ before: 1, ask: 2 });
  });

  it("checkpoints subgraphs under nested namespaces and resumes inside them", async () => {
    const runs = { inner: 0, outerAfter: 0 };
    const inner = new StateGraph(State)
      .addNode("innerStep", () => {
        runs.inner++;
        const answer = interrupt<string, string>("inner question");
        return { log: [`inner:${answer}`] };
      })
      .addEdge(START, "innerStep")
      .addEdge("innerStep", END)
      .compile();
    const outer = new StateGraph(State)
      .addNode("child", inner)
      .addNode("after", () => {
        runs.outerAfter++;
        return { log: ["after"] };
      })
      .addEdge(START, "child")
      .addEdge("child", "after")
      .addEdge("after", END)
      .compile({ checkpointer: saver });
    const config = threadConfig();

    await outer.invoke({ log: [] }, config);
    const state = await outer.getState(config, { subgraphs: true });
    const childState = state.tasks[0]?.state;
    expect(childState && "values" in childState ? childState.next : undefined).toEqual(["innerStep"]);

    const namespaces = new Set<string>();
    for await (const tuple of saver.list({ configurable: { thread_id: config.configurable.thread_id } })) {
      namespaces.add(tuple.config.configurable?.checkpoint_ns as string);
    }
    expect(namespaces.has("")).toBe(true);
    expect([...namespaces].some((ns) => ns.startsWith("child:"))).toBe(true);

    const result = await outer.invoke(new Command({ resume: "ok" }), config);
    expect(result.log).toEqual(["inner:ok", "after"]);
    expect(runs).toEqual({ inner: 2, outerAfter: 1 });
  });

  it("forks from an old checkpoint (time travel) without disturbing the original branch", async () => {
    const Counter = Annotation.Root({
      value: Annotation<string>({ reducer: (_, b) => b, default: () => "" }),
      steps: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
    });
    const graph = new StateGraph(Counter)
      .addNode("first", (s) => ({ value: `${s.value}>first`, steps: ["first"] }))
      .addNode("second", (s) => ({ value: `${s.value}>second`, steps: ["second"] }))
      .addEdge(START, "first")
      .addEdge("first", "second")
      .addEdge("second", END)
      .compile({ checkpointer: saver });
    const config = threadConfig();
    const original = await graph.invoke({ value: "start" }, config);
    expect(original.value).toBe("start>first>second");

    // The checkpoint taken after "first", before "second" ran.
    const history = [];
    for await (const snapshot of graph.getStateHistory(config)) history.push(snapshot);
    const afterFirst = history.find((s) => s.next.length === 1 && s.next[0] === "second");
    expect(afterFirst?.values.value).toBe("start>first");
    if (!afterFirst) return;

    // Fork: rewrite the value at that point and run "second" again from there.
    const forkConfig = await graph.updateState(afterFirst.config, { value: "edited" });
    const forked = await graph.invoke(null, forkConfig);
    expect(forked.value).toBe("edited>second");

    // The original branch is intact, and the fork sits on top of the old checkpoint.
    expect((await graph.getState(afterFirst.config)).values.value).toBe("start>first");
    const latest = await graph.getState(config);
    expect(latest.values.value).toBe("edited>second");
    expect(latest.parentConfig?.configurable?.checkpoint_id).toBeDefined();
    const originalFinal = history[0];
    expect(originalFinal?.values.value).toBe("start>first>second");
    if (originalFinal) expect((await graph.getState(originalFinal.config)).values.value).toBe("start>first>second");

    // Replaying from the old checkpoint re-runs the later step on the original value.
    const replayed = await graph.invoke(null, afterFirst.config);
    expect(replayed.value).toBe("start>first>second");
  });

  it("serves getState, updateState and getStateHistory", async () => {
    const graph = new StateGraph(State)
      .addNode("a", () => ({ log: ["a"] }))
      .addEdge(START, "a")
      .addEdge("a", END)
      .compile({ checkpointer: saver });
    const config = threadConfig();
    await graph.invoke({ log: ["in1"] }, config);
    await graph.invoke({ log: ["in2"] }, config);
    await graph.updateState(config, { log: ["manual"] });

    const state = await graph.getState(config);
    expect(state.values.log).toEqual(["in1", "a", "in2", "a", "manual"]);
    expect(state.metadata?.source).toBe("update");

    const history = [];
    for await (const snapshot of graph.getStateHistory(config)) history.push(snapshot);
    // Each invoke checkpoints input + loop + after-node (3 for the first, 3 for the second), plus the update.
    expect(history).toHaveLength(7);
    const ids = history.map((s) => s.config.configurable?.checkpoint_id as string);
    expect([...ids].sort().reverse()).toEqual(ids);
    const limited = [];
    for await (const snapshot of graph.getStateHistory(config, { limit: 2 })) limited.push(snapshot);
    expect(limited.map((s) => s.config.configurable?.checkpoint_id)).toEqual(ids.slice(0, 2));
    const before = [];
    for await (const snapshot of graph.getStateHistory(config, { before: history[2]?.config })) before.push(snapshot);
    expect(before.map((s) => s.config.configurable?.checkpoint_id)).toEqual(ids.slice(3));
    const inputs = [];
    for await (const snapshot of graph.getStateHistory(config, { filter: { source: "input" } })) inputs.push(snapshot);
    expect(inputs).toHaveLength(2);
  });
});

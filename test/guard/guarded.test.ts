import { Annotation, Command, interrupt, MemorySaver, StateGraph } from "@langchain/langgraph";
import {
  currentFence,
  type Fence,
  guarded,
  InvalidConfigError,
  InvalidInputError,
  type LockAcquiredEvent,
  type LockReleasedEvent,
} from "langgraph-redis";
import { targets, testPrefix } from "../helpers/redis.js";
import { fenceCounter, isLocked } from "./helpers.js";

const Order = Annotation.Root({
  orderId: Annotation<string>,
  status: Annotation<string>,
  token: Annotation<number>,
});

describe.each(targets)("guarded() on $name", ({ connect }) => {
  it("runs the node under the lock, hands it a fence, and releases afterwards", async () => {
    const client = connect();
    const prefix = testPrefix();
    const acquired: LockAcquiredEvent[] = [];
    const released: LockReleasedEvent[] = [];
    let lockedInside = false;
    let fenceInside: Fence | undefined;
    const node = guarded(
      async (state: typeof Order.State, config) => {
        lockedInside = await isLocked(client, prefix, `order:${state.orderId}`);
        fenceInside = currentFence(config, `order:${state.orderId}`);
        expect(currentFence(config)).toEqual(fenceInside);
        expect(() => currentFence(config, "order:other")).toThrow(InvalidConfigError);
        return { status: "paid", token: fenceInside.token };
      },
      {
        client,
        keyPrefix: prefix,
        key: (state) => `order:${state.orderId}`,
        events: { onAcquired: (e) => acquired.push(e), onReleased: (e) => released.push(e) },
      },
    );
    const graph = new StateGraph(Order).addNode("pay", node).addEdge("__start__", "pay").compile();

    const first = await graph.invoke({ orderId: "42", status: "new" });
    const second = await graph.invoke({ orderId: "42", status: "new" });

    expect(lockedInside).toBe(true);
    expect(await isLocked(client, prefix, "order:42")).toBe(false);
    expect(first.status).toBe("paid");
    expect(fenceInside?.lockKey).toBe("order:42");
    expect(second.token).toBeGreaterThan(first.token);
    expect(await fenceCounter(client, prefix, "order:42")).toBe(second.token);
    expect(acquired.map((e) => e.token)).toEqual([first.token, second.token]);
    expect(acquired[0]).toMatchObject({ lockKeys: ["order:42"], attempts: 1 });
    expect(acquired[0]?.fences).toEqual([{ lockKey: "order:42", token: first.token }]);
    expect(acquired[0]?.waitedMs).toBeGreaterThanOrEqual(0);
    expect(released.map((e) => e.outcome)).toEqual(["returned", "returned"]);
  });

  it("locks the thread id by default", async () => {
    const client = connect();
    const prefix = testPrefix();
    let lockedInside = false;
    const node = guarded(
      async (_state: typeof Order.State) => {
        lockedInside = await isLocked(client, prefix, "thread:t-1");
        return {};
      },
      { client, keyPrefix: prefix },
    );
    await node({ orderId: "1", status: "", token: 0 }, { configurable: { thread_id: "t-1" } });
    expect(lockedInside).toBe(true);
    await expect(node({ orderId: "1", status: "", token: 0 }, {})).rejects.toThrow(InvalidConfigError);
  });

  it("releases the lock when the node throws, and passes the error on", async () => {
    const client = connect();
    const prefix = testPrefix();
    const outcomes: string[] = [];
    const node = guarded(
      async () => {
        throw new RangeError("card declined");
      },
      { client, keyPrefix: prefix, key: "order:1", events: { onReleased: (e) => outcomes.push(e.outcome) } },
    );
    await expect(node({}, {})).rejects.toThrow(RangeError);
    expect(await isLocked(client, prefix, "order:1")).toBe(false);
    expect(outcomes).toEqual(["threw"]);
  });

  it("releases the lock when the graph is interrupted, and takes it again on resume", async () => {
    const client = connect();
    const prefix = testPrefix();
    const tokens: number[] = [];
    const node = guarded(
      async (state: typeof Order.State, config) => {
        tokens.push((currentFence(config) as Fence).token);
        const approved = interrupt<string, boolean>(`approve order ${state.orderId}?`);
        return { status: approved ? "paid" : "cancelled" };
      },
      { client, keyPrefix: prefix, key: (state) => `order:${state.orderId}` },
    );
    const graph = new StateGraph(Order)
      .addNode("pay", node)
      .addEdge("__start__", "pay")
      .compile({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: prefix } };

    const paused = await graph.invoke({ orderId: "7", status: "new" }, config);
    expect((paused as { __interrupt__?: unknown[] }).__interrupt__).toHaveLength(1);
    expect(await isLocked(client, prefix, "order:7")).toBe(false);

    const done = await graph.invoke(new Command({ resume: true }), config);
    expect(done.status).toBe("paid");
    expect(tokens).toHaveLength(2);
    expect(tokens[1]).toBeGreaterThan(tokens[0] ?? Number.POSITIVE_INFINITY);
    expect(await isLocked(client, prefix, "order:7")).toBe(false);
  });

  it("passes the caller's abort signal on to the node, combined with its own", async () => {
    const client = connect();
    const prefix = testPrefix();
    const caller = new AbortController();
    const node = guarded(
      (_state: unknown, config) =>
        new Promise((_resolve, reject) => {
          config.signal?.addEventListener("abort", () => reject(config.signal?.reason), { once: true });
          caller.abort(new Error("run cancelled"));
        }),
      { client, keyPrefix: prefix, key: "job" },
    );
    await expect(node({}, { signal: caller.signal })).rejects.toThrow("run cancelled");
    expect(await isLocked(client, prefix, "job")).toBe(false);
  });

  it("wraps a runnable node (anything with invoke), keeping its config", async () => {
    const client = connect();
    const prefix = testPrefix();
    const runnable = {
      invoke: async (state: { n: number }, config?: { configurable?: Record<string, unknown> }) => ({
        n: state.n + 1,
        fence: currentFence(config) as Fence,
        user: config?.configurable?.user,
      }),
    };
    const node = guarded(runnable, { client, keyPrefix: prefix, key: "r" });
    const out = await node({ n: 1 }, { configurable: { user: "ada" } });
    expect(out).toMatchObject({ n: 2, user: "ada", fence: { lockKey: "r" } });
  });

  it("rejects a key function that returns no usable name, before taking anything", async () => {
    const client = connect();
    const prefix = testPrefix();
    const empty = guarded(async () => ({}), { client, keyPrefix: prefix, key: () => "" });
    const none = guarded(async () => ({}), { client, keyPrefix: prefix, key: () => [] });
    await expect(empty({}, {})).rejects.toThrow(InvalidInputError);
    await expect(none({}, {})).rejects.toThrow(InvalidInputError);
  });

  it("keeps working when an event callback throws", async () => {
    const client = connect();
    const prefix = testPrefix();
    const node = guarded(async () => ({ ok: true }), {
      client,
      keyPrefix: prefix,
      key: "k",
      events: {
        onAcquired: () => {
          throw new Error("metrics down");
        },
        onReleased: () => Promise.reject(new Error("metrics down")),
      },
    });
    await expect(node({}, {})).resolves.toEqual({ ok: true });
    expect(await isLocked(client, prefix, "k")).toBe(false);
  });
});

describe("currentFence()", () => {
  it("throws outside a guarded node", () => {
    expect(() => currentFence({})).toThrow(InvalidConfigError);
    expect(() => currentFence(undefined)).toThrow(InvalidConfigError);
  });
});

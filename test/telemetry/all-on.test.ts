/**
 * One graph with everything on: RedisSaver with EncryptedSerializer, RedisStore with encryption, RedisCache with
 * EncryptedSerializer, and the real OpenTelemetry SDK. Run twice with the same input: spans and metrics are seen,
 * every byte under the prefix (read raw) holds no plaintext, and the cached node does not run again.
 */
import { Annotation, END, type LangGraphRunnableConfig, START, StateGraph } from "@langchain/langgraph";
import type { Histogram } from "@opentelemetry/sdk-metrics";
import { EncryptedSerializer, RedisCache, RedisSaver, RedisStore } from "../../src/index.js";
import { loadOtel } from "../../src/telemetry/otel.js";
import { keysContaining, rawContents } from "../encryption/helpers.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { startSdk, type TestSdk } from "./sdk.js";

const SECRET = "patient-record-7731";
const encryption = { keys: { k1: Buffer.alloc(32, 9) }, currentKeyId: "k1" };

let sdk: TestSdk;
beforeAll(async () => {
  sdk = startSdk();
  await loadOtel(); // operations never wait for the API to load; the tests start once it has
});
afterAll(async () => {
  await sdk.shutdown();
});

const State = Annotation.Root({
  question: Annotation<string>,
  answer: Annotation<string>,
  log: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

describe.each(targets)("cache + encryption + OpenTelemetry in one graph ($name)", ({ connect }) => {
  it("serves the cached node, stores only ciphertext and reports spans and metrics", async () => {
    const client = connect();
    const keyPrefix = testPrefix("allon");
    const serde = new EncryptedSerializer(encryption);
    const checkpointer = new RedisSaver({ client, keyPrefix, serde });
    const store = new RedisStore({ client, keyPrefix, encryption });
    const cache = new RedisCache({ client, keyPrefix, serde });
    let lookups = 0;
    const graph = new StateGraph(State)
      .addNode(
        "lookup",
        (state: typeof State.State) => {
          lookups++;
          return { answer: `${SECRET} for ${state.question}`, log: ["lookup"] };
        },
        { cachePolicy: { ttl: 600 } },
      )
      .addNode("remember", async (state: typeof State.State, config: LangGraphRunnableConfig) => {
        await config.store?.put(["memories"], String(config.configurable?.thread_id), { answer: state.answer });
        return { log: ["remember"] };
      })
      .addEdge(START, "lookup")
      .addEdge("lookup", "remember")
      .addEdge("remember", END)
      .compile({ checkpointer, store, cache });

    sdk.reset();
    const first = await graph.invoke({ question: "q" }, { configurable: { thread_id: "one" } });
    const second = await graph.invoke({ question: "q" }, { configurable: { thread_id: "two" } });
    expect(first.answer).toBe(`${SECRET} for q`);
    expect(second.answer).toBe(first.answer);
    expect(lookups).toBe(1);
    expect((await store.get(["memories"], "two"))?.value).toEqual({ answer: `${SECRET} for q` });
    expect(
      (await checkpointer.getTuple({ configurable: { thread_id: "two" } }))?.checkpoint.channel_values,
    ).toMatchObject({ answer: `${SECRET} for q` });

    // Only ciphertext: no key under the prefix holds the secret, and the stores did write there.
    expect(await keysContaining(client, keyPrefix, SECRET)).toEqual([]);
    expect(await keysContaining(client, keyPrefix, "patient")).toEqual([]);
    expect((await rawContents(client, keyPrefix)).size).toBeGreaterThan(5);

    const names = new Set(sdk.spans().map((span) => span.name));
    for (const name of [
      "RedisSaver.put",
      "RedisSaver.putWrites",
      "RedisCache.get",
      "RedisCache.set",
      "RedisStore.put",
    ]) {
      expect(names, name).toContain(name);
    }
    for (const span of sdk.spans()) {
      for (const value of Object.values(span.attributes)) expect(String(value)).not.toContain(SECRET);
    }
    await sdk.collect();
    const hits = sdk
      .points("langgraph_redis.cache.lookups")
      .filter((p) => p.attributes["langgraph_redis.outcome"] === "hit")
      .reduce((sum, p) => sum + (p.value as number), 0);
    expect(hits).toBeGreaterThanOrEqual(1);
    const puts = sdk
      .points("db.client.operation.duration")
      .filter((p) => p.attributes["db.operation.name"] === "RedisSaver.put")
      .reduce((sum, p) => sum + (p.value as Histogram).count, 0);
    expect(puts).toBeGreaterThanOrEqual(4);
  });
});

/**
 * Stored bytes cannot make the deserializer build arbitrary objects. Checkpoints go through LangGraph's
 * JsonPlusSerializer, which revives a closed set of built-ins and, through @langchain/core's load(), LangChain
 * core classes (messages) and nothing else; store values go through JSON.parse alone. Crafted payloads are planted
 * straight into Redis under a real thread's and item's keys.
 */
import { AIMessage } from "@langchain/core/messages";
import { type RedisClient, RedisSaver, RedisStore } from "../../src/index.js";
import { saverThreadKeys, storeNamespaceKeys } from "../../src/keys.js";
import { frame } from "../../src/saver/codec.js";
import { targets, testPrefix } from "../helpers/redis.js";

const SECRET_NAME = "LANGGRAPH_REDIS_TEST_SECRET";
const SECRET_VALUE = "s3cr3t-from-the-environment";

/** Crafted payloads, each with what reading it back may give. */
const payloads: [string, unknown, (value: unknown) => void][] = [
  [
    "an lc secret naming an environment variable",
    { lc: 1, type: "secret", id: [SECRET_NAME] },
    (value) => expect(JSON.stringify(value ?? null)).not.toContain(SECRET_VALUE),
  ],
  [
    "an lc constructor outside LangChain's namespaces",
    { lc: 1, type: "constructor", id: ["child_process", "execSync"], kwargs: { command: "touch /tmp/pwned" } },
    (value) => expect(typeof value).not.toBe("function"),
  ],
  [
    "an lc constructor with a path-like module name",
    { lc: 1, type: "constructor", id: ["langchain_core", "..", "..", "fs", "rmSync"], kwargs: {} },
    (value) => expect(typeof value).not.toBe("function"),
  ],
  [
    "an lc:2 Function constructor",
    { lc: 2, type: "constructor", id: ["Function"], method: null, args: ["return process"], kwargs: {} },
    (value) => expect(value).not.toBeInstanceOf(Function),
  ],
  [
    "a __proto__ key",
    JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}'),
    () => expect(({} as Record<string, unknown>).polluted).toBeUndefined(),
  ],
];

/** A read either returns the value or fails with a named error; it never builds what the payload asks for. */
async function readBack(read: () => Promise<unknown>): Promise<{ value?: unknown; error?: unknown }> {
  try {
    return { value: await read() };
  } catch (error) {
    return { error };
  }
}

describe.each(targets)("stored bytes cannot build arbitrary objects ($name)", ({ connect }) => {
  let client: RedisClient;
  beforeAll(() => {
    client = connect();
    process.env[SECRET_NAME] = SECRET_VALUE;
  });
  afterAll(() => {
    delete process.env[SECRET_NAME];
  });

  async function plantedCheckpoint(payload: unknown, type = "json"): Promise<() => Promise<unknown>> {
    const keyPrefix = testPrefix("deser");
    const saver = new RedisSaver({ client, keyPrefix });
    const config = await saver.put(
      { configurable: { thread_id: "t", checkpoint_ns: "" } },
      {
        v: 4,
        id: "1f000000-0000-6000-8000-000000000001",
        ts: "2025-01-01T00:00:00.000Z",
        channel_values: { c: "original" },
        channel_versions: { c: 1 },
        versions_seen: {},
      },
      { source: "input", step: -1, parents: {} },
      { c: 1 },
    );
    const blobs = saverThreadKeys(keyPrefix, "t").blobs;
    const [field] = (await client.hkeysBuffer(blobs)) as Buffer[];
    await client.hset(blobs, field as Buffer, frame([type, JSON.stringify(payload)]));
    return async () => (await saver.getTuple(config))?.checkpoint.channel_values.c;
  }

  it.each(payloads)("checkpoint: %s stays inert", async (_, payload, check) => {
    const { value, error } = await readBack(await plantedCheckpoint(payload));
    if (error !== undefined) expect((error as Error).name).toBe("CorruptCheckpointError");
    check(value);
    expect(JSON.stringify(error ?? "")).not.toContain(SECRET_VALUE);
  });

  it("checkpoint: an unknown serialization type is a named error, not a plug-in lookup", async () => {
    const { error } = await readBack(await plantedCheckpoint({ a: 1 }, "pickle"));
    expect((error as Error).name).toBe("CorruptCheckpointError");
  });

  it("checkpoint: LangChain core messages are revived, as LangGraph state needs", async () => {
    const message = {
      lc: 1,
      type: "constructor",
      id: ["langchain_core", "messages", "AIMessage"],
      kwargs: { content: "hi" },
    };
    const { value } = await readBack(await plantedCheckpoint(message));
    expect(value).toBeInstanceOf(AIMessage);
    expect((value as AIMessage).content).toBe("hi");
  });

  it.each(payloads)("store: %s comes back as plain data", async (_, payload, check) => {
    const keyPrefix = testPrefix("deser");
    const store = new RedisStore({ client, keyPrefix });
    await store.put(["docs"], "item", { placeholder: true });
    const items = storeNamespaceKeys(keyPrefix, ["docs"]).items;
    const record = (await client.hget(items, "item")) as string;
    const header = record.slice(0, record.indexOf("\n") + 1);
    await client.hset(items, "item", `${header}${JSON.stringify({ payload })}`);
    const { value, error } = await readBack(async () => (await store.get(["docs"], "item"))?.value);
    expect(error).toBeUndefined();
    const inner = (value as { payload: unknown }).payload;
    check(inner);
    // JSON.parse builds plain objects and arrays only; lc records stay data
    expect(Object.getPrototypeOf(inner)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(inner))).toEqual(JSON.parse(JSON.stringify(payload)));
  });
});

import { InMemoryStore, type Operation } from "@langchain/langgraph-checkpoint";
import fc from "fast-check";
import { CorruptDataError, InvalidInputError, InvalidOptionError } from "../../src/index.js";
import { storeNamespaceKeys } from "../../src/keys.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { HashEmbeddings, newStore } from "./helpers.js";
import { normalize } from "./reference.js";

const words = ["apple", "banana", "cherry", "delta", "echo", "fox", "golf", "hotel"];
const text = fc.array(fc.constantFrom(...words), { minLength: 1, maxLength: 4 }).map((w) => w.join(" "));

describe.each(targets)("vector search on $name", ({ connect }) => {
  it("ranks exactly as InMemoryStore for random documents and queries", async () => {
    const client = connect();
    const ops = fc.array(
      fc.oneof(
        {
          weight: 3,
          arbitrary: fc.record({
            namespace: fc.constant(["docs"]),
            key: fc.constantFrom("a", "b", "c", "d", "e"),
            value: fc.record({ text, n: fc.integer({ min: 0, max: 3 }) }),
          }),
        },
        {
          weight: 1,
          arbitrary: fc.record({
            namespace: fc.constant(["docs"]),
            key: fc.constantFrom("a", "b"),
            value: fc.constant(null),
          }),
        },
        {
          weight: 2,
          arbitrary: fc.record({
            namespacePrefix: fc.constant(["docs"]),
            query: text,
            filter: fc.option(fc.record({ n: fc.record({ $gte: fc.integer({ min: 0, max: 3 }) }) }), {
              nil: undefined,
            }),
            limit: fc.integer({ min: 1, max: 4 }),
            offset: fc.integer({ min: 0, max: 2 }),
          }),
        },
      ) as fc.Arbitrary<Operation>,
      { minLength: 1, maxLength: 15 },
    );
    await fc.assert(
      fc.asyncProperty(
        ops,
        fc.constantFrom<string[][]>(["$"], ["text"]),
        fc.boolean(),
        async (sequence, fields, fx) => {
          const index = { dims: 16, embeddings: new HashEmbeddings(16), fields };
          // With a filter index on n, the filter narrows the candidates in the script; the ranking must not change.
          const store = newStore(client, {
            index,
            ...(fx ? { filterIndex: { fields: { n: "number" as const } } } : {}),
          });
          const reference = new InMemoryStore({ index });
          for (const op of sequence) {
            expect(normalize(await store.batch([op]))).toEqual(normalize(await reference.batch([op])));
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it("returns a cosine score, embeds only the configured fields, and honours index: false", async () => {
    const store = newStore(connect(), { index: { dims: 16, embeddings: new HashEmbeddings(16), fields: ["title"] } });
    await store.put(["kb"], "fruit", { title: "apple banana", body: "golf hotel" });
    await store.put(["kb"], "sport", { title: "golf hotel", body: "apple banana" });
    await store.put(["kb"], "hidden", { title: "apple banana" }, false);
    const hits = await store.search(["kb"], { query: "apple" });
    expect(hits.map((h) => h.key)).toEqual(["fruit", "sport", "hidden"]);
    expect(hits[0]?.score).toBeCloseTo(1 / Math.sqrt(2), 6);
    expect(hits[1]?.score).toBe(0);
    expect(hits[2]?.score).toBeUndefined();
    // Per-put fields replace the configured ones; an overwrite replaces the item's vectors.
    await store.put(["kb"], "sport", { title: "golf", body: "apple" }, { index: ["body"] });
    expect((await store.search(["kb"], { query: "apple", limit: 1 }))[0]?.key).toBe("sport");
  });

  it("stores vectors as float32 with the item and drops them with it", async () => {
    const client = connect();
    const keyPrefix = testPrefix("vec");
    const own = newStore(client, { keyPrefix, index: { dims: 8, embeddings: new HashEmbeddings(8) } });
    await own.put(["v"], "doc", { text: "apple" });
    const vectorsKey = storeNamespaceKeys(keyPrefix, ["v"]).vectors;
    expect((await client.hgetBuffer(vectorsKey, "doc"))?.length).toBe(8 * 4);
    await own.delete(["v"], "doc");
    expect(await client.exists(vectorsKey)).toBe(0);
  });

  it("names the key holding vectors of the wrong size", async () => {
    const client = connect();
    const keyPrefix = testPrefix("vec");
    const store = newStore(client, { keyPrefix, index: { dims: 8, embeddings: new HashEmbeddings(8) } });
    await store.put(["v"], "doc", { text: "apple" });
    const vectorsKey = storeNamespaceKeys(keyPrefix, ["v"]).vectors;
    await client.hset(vectorsKey, "doc", Buffer.from([1, 2, 3]));
    const error = await store.search(["v"], { query: "apple" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as CorruptDataError).key).toBe(vectorsKey);
  });

  it("refuses embeddings of the wrong dimension before writing", async () => {
    const client = connect();
    const store = newStore(client, { index: { dims: 4, embeddings: new HashEmbeddings(8) } });
    await expect(store.put(["v"], "doc", { text: "apple" })).rejects.toThrow(InvalidInputError);
    expect(await store.get(["v"], "doc")).toBeNull();
    expect(() => newStore(client, { index: { dims: 0, embeddings: new HashEmbeddings(8) } })).toThrow(
      InvalidOptionError,
    );
  });
});

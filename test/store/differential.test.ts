/**
 * Differential property test: random sequences of batches (gets, puts, deletes, searches with filters and
 * pagination, listNamespaces with prefix/suffix/wildcards/maxDepth/pagination) run against RedisStore and the
 * InMemoryStore reference; every result must be identical (timestamps aside), on a standalone server and a cluster.
 */
import type { Operation } from "@langchain/langgraph-checkpoint";
import fc from "fast-check";
import { targets } from "../helpers/redis.js";
import { newStore } from "./helpers.js";
import { normalize, referenceStore } from "./reference.js";

const label = fc.constantFrom("a", "b", "c");
const namespace = fc.array(label, { minLength: 1, maxLength: 3 });
const key = fc.constantFrom("k1", "k2", "k3", "with:colon{tag}", "ünï");
const value = fc.record(
  {
    n: fc.integer({ min: 0, max: 5 }),
    s: fc.constantFrom("x", "y"),
    flag: fc.boolean(),
    nested: fc.constant({ z: 1 }),
  },
  { requiredKeys: ["n"] },
);
const filter = fc.oneof(
  fc.constant(undefined),
  fc.record({ n: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ s: fc.constantFrom("x", "y") }),
  fc.record({ n: fc.record({ $gt: fc.integer({ min: 0, max: 5 }) }) }),
  fc.record({ n: fc.record({ $gte: fc.integer({ min: 0, max: 5 }), $lte: fc.integer({ min: 0, max: 5 }) }) }),
  fc.record({ n: fc.record({ $lt: fc.integer({ min: 0, max: 5 }) }), s: fc.record({ $ne: fc.constant("x") }) }),
  fc.record({ flag: fc.record({ $eq: fc.boolean() }) }),
);
const pathWithWildcards = fc.array(fc.oneof(label, fc.constant("*")), { minLength: 1, maxLength: 3 });

const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ namespace, key, value }) },
  { weight: 1, arbitrary: fc.record({ namespace, key, value: fc.constant(null) }) },
  { weight: 2, arbitrary: fc.record({ namespace, key }) },
  {
    weight: 2,
    arbitrary: fc.record({
      namespacePrefix: fc.array(label, { maxLength: 2 }),
      filter,
      limit: fc.integer({ min: 0, max: 6 }),
      offset: fc.integer({ min: 0, max: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      matchConditions: fc.oneof(
        fc.constant(undefined),
        fc.array(
          fc.record({ matchType: fc.constantFrom("prefix" as const, "suffix" as const), path: pathWithWildcards }),
          { minLength: 1, maxLength: 2 },
        ),
      ),
      maxDepth: fc.oneof(fc.constant(undefined), fc.integer({ min: 1, max: 3 })),
      limit: fc.integer({ min: 1, max: 10 }),
      offset: fc.integer({ min: 0, max: 2 }),
    }),
  },
);
const batches = fc.array(fc.array(operation, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 12 });

describe.each(targets)("RedisStore matches InMemoryStore on $name", ({ connect }) => {
  it("for random sequences of batches", async () => {
    const client = connect();
    await fc.assert(
      fc.asyncProperty(batches, async (sequence) => {
        const store = newStore(client);
        const reference = referenceStore();
        for (const ops of sequence) {
          const expected = normalize(await reference.batch(ops));
          const actual = normalize(await store.batch(ops));
          expect(actual).toEqual(expected);
        }
        // The convenience methods (which go through batch) agree as well.
        expect(await store.listNamespaces()).toEqual(await reference.listNamespaces());
        expect(normalize(await store.search([], { limit: 100 }))).toEqual(
          normalize(await reference.search([], { limit: 100 })),
        );
      }),
      { numRuns: 300 },
    );
  });
});

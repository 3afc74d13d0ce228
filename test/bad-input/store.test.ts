/**
 * RedisStore under hostile input: namespaces, keys and values that are empty, huge, unicode, binary, deeply nested,
 * full of `{ } : * |`, NaN, Infinity, undefined or not of the right type at all. Each write either round-trips
 * exactly (JSON: an `undefined` property reads back as absent; null deletes) or throws a named error (-0 too) and
 * changes nothing;
 * after every step get, history, search and listNamespaces agree with a model of the successful writes.
 */
import fc from "fast-check";
import { RedisStore } from "../../src/index.js";
import { recordCounts } from "../helpers/counts.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { hostileId, hostileString, hostileValue, isNamedError, notAString, settle } from "./inputs.js";

/** What JSON gives back for a value the store accepted: undefined properties gone, -0 as 0, plain objects. */
function viaJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(viaJson);
  if (typeof value === "number") return value === 0 ? 0 : value;
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (child === undefined) continue;
    Object.defineProperty(out, key, { value: viaJson(child), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Labels: mostly ones BaseStore allows (non-empty, no "."), so most writes get through to Redis. */
const label = fc.oneof(
  { weight: 6, arbitrary: hostileString.filter((s) => s !== "" && !s.includes(".") && s !== "langgraph") },
  { weight: 1, arbitrary: hostileId },
);
const namespace = fc.oneof(
  { weight: 8, arbitrary: fc.array(label, { minLength: 1, maxLength: 3 }) },
  { weight: 1, arbitrary: fc.constant([]) },
  { weight: 1, arbitrary: notAString },
);
const isObject = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
const write = fc.record({
  namespace,
  key: hostileId,
  value: fc.oneof(
    { weight: 6, arbitrary: hostileValue.map((v) => (isObject(v) ? v : { v })) },
    { weight: 1, arbitrary: hostileValue },
    { weight: 1, arbitrary: notAString },
  ),
});

describe.each(targets)("RedisStore with hostile input ($name)", ({ name, connect }) => {
  it("round-trips exactly or throws a named error, and stays consistent", async (context) => {
    const client = connect();
    let tried = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(write, { minLength: 1, maxLength: 3 }), async (writes) => {
        const store = new RedisStore({ client, keyPrefix: testPrefix("bad") });
        /** JSON of [namespace, key] -> [namespace, key, expected value, successful writes] */
        const model = new Map<string, { namespace: string[]; key: string; value: unknown; writes: number }>();
        for (const w of writes) {
          tried++;
          const result = await settle(store.put(w.namespace as string[], w.key as string, w.value as never));
          if (!result.ok) {
            refused++;
            expect(isNamedError(result.error), `put threw ${String(result.error)}`).toBe(true);
          } else if (w.value === null) {
            model.delete(JSON.stringify([w.namespace, w.key])); // put(..., null) deletes
          } else {
            const id = JSON.stringify([w.namespace, w.key]);
            const previous = model.get(id);
            model.set(id, {
              namespace: w.namespace as string[],
              key: w.key as string,
              value: viaJson(w.value),
              writes: (previous?.writes ?? 0) + 1,
            });
          }
          for (const entry of model.values()) {
            const item = await store.get(entry.namespace, entry.key);
            expect(item?.value).toStrictEqual(entry.value);
            expect(item?.key).toBe(entry.key);
            expect(item?.namespace).toEqual(entry.namespace);
            expect(await store.history(entry.namespace, entry.key)).toHaveLength(entry.writes);
            const found = await store.search(entry.namespace, { limit: 100 });
            const expectedKeys = [...model.values()]
              .filter((e) => JSON.stringify(e.namespace) === JSON.stringify(entry.namespace))
              .map((e) => e.key)
              .sort();
            expect(found.map((f) => f.key).sort()).toEqual(expectedKeys);
          }
          const namespaces = await store.listNamespaces({ limit: 1000 });
          const expectedNamespaces = new Set([...model.values()].map((e) => JSON.stringify(e.namespace)));
          expect(new Set(namespaces.map((n) => JSON.stringify(n)))).toEqual(expectedNamespaces);
        }
      }),
      { numRuns: name === "cluster" ? 60 : 150 },
    );
    recordCounts(context, { inputsTried: tried });
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThan(tried);
  });
});

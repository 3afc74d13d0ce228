/**
 * batch(): one pipelined round trip per server involved, InMemoryStore's ordering semantics, and the cluster
 * registration protocol under the races it is built for.
 */
import type { Item, SearchItem } from "@langchain/langgraph-checkpoint";
import type { Cluster } from "ioredis";
import type { RedisClient } from "../../src/client.js";
import type { RedisStore } from "../../src/index.js";
import { STORE_REGISTRY_BUCKETS, storeNamespaceMember, storeRegistryKeys } from "../../src/keys.js";
import { keySlot, runRouted } from "../../src/routing.js";
import { createContext } from "../../src/store/context.js";
import { putCall } from "../../src/store/crud/put.js";
import { redisStoreOptionsSchema } from "../../src/store/options.js";
import { readNamespaceCall } from "../../src/store/read-namespace.js";
import { readRegistry, registerCalls, unregisterCalls } from "../../src/store/registry.js";
import { newCluster, targets, testPrefix } from "../helpers/redis.js";
import { newStore, registeredMembers, registryOf } from "./helpers.js";

function countPipelines(client: RedisClient): { count: number } {
  const counter = { count: 0 };
  const original = client.pipeline.bind(client);
  (client as { pipeline: unknown }).pipeline = (...args: Parameters<typeof original>) => {
    counter.count++;
    return original(...args);
  };
  return counter;
}

function mastersOf(cluster: Cluster, keys: string[]): number {
  const slots = cluster.slots as unknown as string[][];
  return new Set(keys.map((key) => slots[keySlot(key)]?.[0])).size;
}

describe.each(targets)("batch on $name", ({ name, connect }) => {
  it("costs one pipeline per server for gets and writes, however many operations", async () => {
    const client = connect();
    const keyPrefix = testPrefix("batch");
    const store: RedisStore = newStore(client, { keyPrefix });
    await store.put(["warm"], "up", { v: 0 }); // connects, checks the server version
    const namespaces = Array.from({ length: 30 }, (_, i) => ["tenant", `t${i}`]);
    // (On a cluster the first write into a new namespace also registers it: two more round trips, once.)
    await store.batch(namespaces.map((ns) => ({ namespace: ns, key: "k", value: { i: -1 } })));
    const pipelines = countPipelines(client);
    await store.batch(namespaces.map((ns, i) => ({ namespace: ns, key: "k", value: { i } })));
    const expected =
      name === "cluster"
        ? mastersOf(
            client as Cluster,
            namespaces.map((ns) => `{${ns.join(":")}}`),
          )
        : 1;
    if (name === "cluster") expect(expected).toBeGreaterThan(1);
    expect(pipelines.count).toBe(expected);
    pipelines.count = 0;
    const results = await store.batch(namespaces.map((ns) => ({ namespace: ns, key: "k" })));
    expect(pipelines.count).toBe(expected);
    expect(results.map((item) => item?.value)).toEqual(namespaces.map((_, i) => ({ i })));
    // A search or listing reads the registry first: one more round trip, to every server holding a registry
    // bucket (on the cluster the buckets are spread over all masters, read concurrently).
    pipelines.count = 0;
    const [found] = await store.batch([{ namespacePrefix: ["tenant"], limit: 100 }]);
    expect(found).toHaveLength(30);
    const registryServers =
      name === "cluster"
        ? mastersOf(
            client as Cluster,
            Array.from({ length: STORE_REGISTRY_BUCKETS }, (_, b) => storeRegistryKeys(keyPrefix, b).names),
          )
        : 1;
    expect(pipelines.count).toBe(registryServers + expected);
    // A search whose prefix is one namespace, paged or with an indexed filter, reads it beside the registry: one round.
    pipelines.count = 0;
    const [own] = await store.batch([{ namespacePrefix: ["tenant", "t3"], limit: 5 }]);
    expect((own as SearchItem[]).map((item) => item.value)).toEqual([{ i: 3 }]);
    expect(pipelines.count).toBe(registryServers);
  });

  it("reads see the store as it was before the batch's writes, like InMemoryStore", async () => {
    const store = newStore(connect());
    await store.put(["ns"], "k", { v: 1 });
    const [, got, found, listed] = (await store.batch([
      { namespace: ["ns"], key: "k", value: { v: 2 } },
      { namespace: ["ns"], key: "k" },
      { namespacePrefix: ["ns"], limit: 10, offset: 0 },
      { matchConditions: undefined, limit: 10, offset: 0 },
    ])) as unknown as [null, Item | null, SearchItem[], string[][]];
    expect(got?.value).toEqual({ v: 1 });
    expect(found?.map((i) => i.value)).toEqual([{ v: 1 }]);
    expect(listed).toEqual([["ns"]]);
    expect((await store.get(["ns"], "k"))?.value).toEqual({ v: 2 });
  });

  it("keeps keys and labels with braces, colons and unicode apart", async () => {
    const store = newStore(connect());
    const keys = ["{tag}", "a:b", "%7B", "ünïcødé ✓", "", "x".repeat(300)];
    await store.batch(keys.map((key, i) => ({ namespace: ["odd {ns}", "ü"], key, value: { i } })));
    for (const [i, key] of keys.entries()) expect((await store.get(["odd {ns}", "ü"], key))?.value).toEqual({ i });
    expect((await store.search(["odd {ns}"], { limit: 10 })).map((item) => item.key)).toEqual(keys);
    expect(await store.listNamespaces()).toEqual([["odd {ns}", "ü"]]);
  });
});

describe("cluster namespace registration", () => {
  function context(client: Cluster, keyPrefix: string) {
    return createContext(redisStoreOptionsSchema.parse({ client, keyPrefix }));
  }

  const write = (ns: string[], key: string) => ({
    namespace: ns,
    key,
    member: storeNamespaceMember(ns),
    op: "put" as const,
    stored: '{"v":1}',
    auditText: '{"v":1}',
    value: { v: 1 },
    vectors: null,
    embedFields: [],
    fieldScores: "",
    ttlMs: null,
    writer: null,
    expectedVersion: undefined,
    fence: undefined,
  });

  it("a write waits for registration, and a registration retired while it was in flight is not used", async () => {
    const client = newCluster();
    const keyPrefix = testPrefix("reg");
    const ctx = context(client, keyPrefix);
    const w = write(["race"], "k");

    // 1. Unregistered namespace: the script writes nothing and asks for registration.
    const [first] = await runRouted(ctx, [putCall(ctx, w)]);
    expect(first).toEqual({ kind: "register" });
    const [seqs] = await runRouted(ctx, registerCalls(ctx, [w.member]));
    const epoch = seqs?.get(w.member) as number;

    // 2. Before the write lands, a reader finds the namespace empty and retires that registration.
    const [ns] = await readRegistry(ctx, ["-", "+"]);
    expect(ns?.seq).toBe(epoch);
    const [read] = await runRouted(ctx, [readNamespaceCall(ctx, ns as never)]);
    expect(read.live).toBe(0);
    await runRouted(ctx, unregisterCalls(ctx, new Map([[w.member, epoch]])));
    expect(await registeredMembers(client, keyPrefix)).toEqual([]);

    // 3. The write with the retired epoch must register again rather than land unlisted.
    const [stale] = await runRouted(ctx, [putCall(ctx, w, epoch)]);
    expect(stale).toEqual({ kind: "register" });
    const [fresh] = await runRouted(ctx, registerCalls(ctx, [w.member]));
    const freshEpoch = fresh?.get(w.member) as number;
    expect(freshEpoch).toBeGreaterThan(epoch);
    const [landed] = await runRouted(ctx, [putCall(ctx, w, freshEpoch)]);
    expect(landed.kind).toBe("written");
    expect(await registeredMembers(client, keyPrefix)).toEqual([w.member]);
  });

  it("uniform writes over many namespaces spread the registry over every master (no hot slot)", async () => {
    const client = newCluster();
    const keyPrefix = testPrefix("spread");
    const store = newStore(client, { keyPrefix });
    const count = 240;
    const ops = Array.from({ length: count }, (_, i) => ({ namespace: ["tenant", `t${i}`], key: "k", value: { i } }));
    for (let i = 0; i < count; i += 60) await store.batch(ops.slice(i, i + 60));
    await client.exists(keyPrefix); // the slot map is known
    const slots = client.slots as unknown as string[][];
    const perMaster = new Map<string, number>();
    const perBucket: number[] = [];
    for (let bucket = 0; bucket < STORE_REGISTRY_BUCKETS; bucket++) {
      const { names } = storeRegistryKeys(keyPrefix, bucket);
      const members = await client.zcard(names);
      perBucket.push(members);
      const master = slots[keySlot(names)]?.[0] ?? "?";
      perMaster.set(master, (perMaster.get(master) ?? 0) + members);
    }
    expect(perBucket.reduce((a, b) => a + b, 0)).toBe(count);
    expect(perMaster.size).toBe(3);
    // Every master holds a fair share of the registry (a third each on average), no bucket more than a tenth.
    for (const members of perMaster.values()) expect(members).toBeGreaterThan(count * 0.2);
    expect(Math.max(...perBucket)).toBeLessThan(count * 0.1);
    expect((await store.listNamespaces({ limit: 1000 })).length).toBe(count);
    expect((await store.search(["tenant"], { limit: 1000 })).map((item) => item.value.i)).toEqual(
      ops.map((op) => op.value.i),
    );
  });

  it("an old retirement cannot drop a namespace registered again since", async () => {
    const client = newCluster();
    const keyPrefix = testPrefix("reg");
    const store = newStore(client, { keyPrefix });
    await store.put(["again"], "k", { v: 1 });
    const registry = registryOf(keyPrefix, storeNamespaceMember(["again"]));
    const oldSeq = Number(await client.hget(registry.seq, storeNamespaceMember(["again"])));
    await store.delete(["again"], "k");
    await store.put(["again"], "k", { v: 2 });
    const ctx = context(client, keyPrefix);
    await runRouted(ctx, unregisterCalls(ctx, new Map([[storeNamespaceMember(["again"]), oldSeq]])));
    expect(await store.listNamespaces()).toEqual([["again"]]);
  });

  it("many concurrent writers into fresh namespaces leave every namespace listed exactly once", async () => {
    const client = newCluster();
    const store = newStore(client);
    const names = Array.from({ length: 8 }, (_, i) => `ns${i}`);
    await Promise.all(
      names.flatMap((n) => [
        ...Array.from({ length: 5 }, (_, j) => store.put([n], `k${j}`, { j })),
        store.search([n]),
        store.listNamespaces(),
      ]),
    );
    expect(await store.listNamespaces()).toEqual(names.map((n) => [n]));
    for (const n of names) expect(await store.search([n])).toHaveLength(5);
  });

  it("under churn (writers, deleters and readers at once) lists exactly the namespaces that hold items", async () => {
    const client = newCluster();
    const store = newStore(client);
    const names = Array.from({ length: 6 }, (_, i) => [`churn${i}`]);
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 8; round++) {
      const ops: Promise<unknown>[] = [];
      for (let i = 0; i < 24; i++) {
        const ns = names[random(names.length)] as string[];
        const key = `k${random(3)}`;
        const pick = random(4);
        if (pick === 0) ops.push(store.delete(ns, key));
        else if (pick === 1) ops.push(store.search(ns));
        else if (pick === 2) ops.push(store.listNamespaces());
        else ops.push(store.put(ns, key, { round }));
      }
      await Promise.all(ops);
      const holding: string[][] = [];
      for (const ns of names) if ((await store.search(ns)).length > 0) holding.push(ns);
      expect(await store.listNamespaces()).toEqual(holding);
    }
  });
});

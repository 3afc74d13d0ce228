/**
 * Latency sanity check for RedisStore (not a test): p50/p99 of sequential get and put against a raw PING on the
 * same connection, so the numbers show what the store adds over one round trip.
 * Run: npx tsx scripts/with-redis.ts [--cluster] -- npx tsx bench/store-latency.ts [iterations] [cluster]
 * (the second argument "cluster" measures against REDIS_CLUSTER_NODES instead of REDIS_URL).
 */
import { clientFromUrl, RedisStore } from "../src/index.js";

const iterations = Number(process.argv[2] ?? 2000);
const onCluster = process.argv[3] === "cluster";
const client = clientFromUrl(
  onCluster
    ? `redis+cluster://${process.env.REDIS_CLUSTER_NODES}`
    : (process.env.REDIS_URL ?? "redis://127.0.0.1:6379"),
);
const store = new RedisStore({ client, keyPrefix: `bench-${process.pid}-${Date.now()}`, agentId: "bench" });

async function measure(name: string, op: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 200; i++) await op(i); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    await op(i);
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => (samples[Math.floor(q * (samples.length - 1))] ?? 0).toFixed(3);
  console.log(`${name.padEnd(28)} p50 ${at(0.5)} ms   p99 ${at(0.99)} ms   (${iterations} sequential)`);
}

try {
  const value = { status: "pending", amount: 12_000, note: "x".repeat(200) };
  console.log(onCluster ? "Redis Cluster (3 masters)" : "standalone");
  await measure("PING (raw ioredis)", () => client.ping());
  await measure("put (new item each time)", (i) => store.put(["bench", "orders"], `o${i}`, value));
  await measure("put (same item)", () => store.put(["bench", "orders"], "hot", value));
  await measure("get", (i) => store.get(["bench", "orders"], `o${i % 1000}`));
  await measure("search (limit 10, 2k items)", () => store.search(["bench"], { limit: 10 }));
} finally {
  await client.quit();
}

/**
 * Latency of a guarded node's lock round (acquire + fence + release around an empty node) against a bare
 * SET NX PX + DEL and a PING, sequentially on one connection. A measurement to run by hand, not a test:
 *   npx tsx scripts/with-redis.ts --cluster -- npx tsx bench/guard-latency.ts [iterations]
 * Uses REDIS_URL (and REDIS_CLUSTER_NODES when set).
 */
import { randomUUID } from "node:crypto";
import { clientFromUrl, guarded, type RedisClient } from "../src/index.js";

const iterations = Number(process.argv[2] ?? 2000);

async function time(label: string, run: (i: number) => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 200; i++) await run(i); // warm up: connections, scripts, JIT
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await run(i);
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0;
  console.log(`${label.padEnd(34)} mean ${ms(mean)}  p50 ${ms(at(0.5))}  p99 ${ms(at(0.99))}  (${iterations} runs)`);
  return [mean, at(0.5)];
}

const ms = (value: number) => `${value.toFixed(3)} ms`;

async function measure(name: string, client: RedisClient): Promise<void> {
  console.log(`-- ${name}`);
  const id = randomUUID();
  const [ping = 0, pingP50 = 0] = await time("PING (one round trip)", () => client.ping());
  const [raw = 0, rawP50 = 0] = await time("SET NX PX + DEL", async (i) => {
    await client.set(`bench:raw:{${i % 100}}`, id, "PX", 10_000, "NX");
    await client.del(`bench:raw:{${i % 100}}`);
  });
  const node = guarded(async () => ({}), { client, keyPrefix: "bench", key: (s: { i: number }) => `k${s.i % 100}` });
  const [guard = 0, guardP50 = 0] = await time("guarded() acquire+fence+release", (i) => node({ i }, {}));
  console.log(
    `round trips (mean / p50 over PING): raw ${(raw / ping).toFixed(2)} / ${(rawP50 / pingP50).toFixed(2)}, ` +
      `guarded ${(guard / ping).toFixed(2)} / ${(guardP50 / pingP50).toFixed(2)}; ` +
      `guarded - raw: ${ms(guard - raw)} mean`,
  );
}

const standalone = clientFromUrl(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
await measure("standalone", standalone);
await standalone.quit();
if (process.env.REDIS_CLUSTER_NODES) {
  const cluster = clientFromUrl(`redis+cluster://${process.env.REDIS_CLUSTER_NODES}`);
  await measure("cluster (3 masters)", cluster);
  await cluster.quit();
}

/**
 * Quick latency sanity check for RedisSaver (not a benchmark): p50/p99 of put, putWrites, getTuple and
 * list(limit 10), next to a raw PING on the same connection, one operation at a time.
 *
 *   npx tsx scripts/saver-latency.ts            # starts a throwaway local redis-server
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx scripts/saver-latency.ts
 *
 * ITERATIONS (default 2000) sets the sample count per operation.
 */
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { emptyCheckpoint, uuid6 } from "@langchain/langgraph-checkpoint";
import { Redis } from "ioredis";
import { RedisSaver } from "../src/index.js";
import { type LocalRedis, startRedis } from "./local-redis.js";

const iterations = Number(process.env.ITERATIONS ?? 2000);

async function sample(label: string, op: (i: number) => Promise<unknown>): Promise<string> {
  for (let i = 0; i < 50; i++) await op(-1 - i); // warm up (script load, JIT)
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    await op(i);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => (times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0).toFixed(3);
  return `${label.padEnd(28)} p50 ${at(0.5).padStart(7)} ms   p99 ${at(0.99).padStart(7)} ms`;
}

const server: LocalRedis | undefined = process.env.REDIS_URL ? undefined : await startRedis();
const url = process.env.REDIS_URL ?? (server as LocalRedis).url;
const client = new Redis(url);
const saver = new RedisSaver({ client, keyPrefix: `latency${Date.now()}` });
const thread = { configurable: { thread_id: "latency", checkpoint_ns: "" } };
const value = { messages: Array.from({ length: 20 }, (_, i) => ({ role: "user", content: `message ${i}` })) };

try {
  const lines = [`${iterations} sequential operations per row, against ${url}`];
  lines.push(await sample("PING (raw ioredis)", () => client.ping()));
  let parent: string | undefined;
  lines.push(
    await sample("put (1 changed channel)", async (i) => {
      const checkpoint = { ...emptyCheckpoint(), id: uuid6(-1) };
      checkpoint.channel_values = { messages: value.messages, step: i };
      checkpoint.channel_versions = { messages: 1, step: i + 2 };
      const config = { configurable: { ...thread.configurable, checkpoint_id: parent } };
      // The first put stores the messages; later ones only the step counter (as a graph step would).
      const newVersions: Record<string, number> = parent === undefined ? { messages: 1, step: i + 2 } : { step: i + 2 };
      await saver.put(config, checkpoint, { source: "loop", step: i, parents: {} }, newVersions);
      parent = checkpoint.id;
    }),
  );
  // Writes go to checkpoints of their own, so the reads below see a typical checkpoint (a few writes, not 2,000).
  lines.push(
    await sample("putWrites (2 writes)", (i) => {
      const config = { configurable: { ...thread.configurable, checkpoint_id: `w${i}` } };
      return saver.putWrites(
        config,
        [
          ["a", i],
          ["b", value],
        ],
        "task",
      );
    }),
  );
  lines.push(await sample("getTuple (latest)", () => saver.getTuple(thread)));
  lines.push(
    await sample("list (limit 10)", async () => {
      for await (const _ of saver.list(thread, { limit: 10 })) {
        // drain
      }
    }),
  );
  const graph = new StateGraph(Annotation.Root({ n: Annotation<number>() }))
    .addNode("step", (s) => ({ n: s.n + 1 }))
    .addEdge(START, "step")
    .addEdge("step", END)
    .compile({ checkpointer: saver });
  lines.push(
    await sample("graph.invoke (1 node)", (i) => graph.invoke({ n: i }, { configurable: { thread_id: "g" } })),
  );
  console.log(lines.join("\n"));
} finally {
  await client.quit();
  await server?.stop();
}

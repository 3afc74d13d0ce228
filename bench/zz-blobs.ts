import { Redis } from "ioredis";
import { RedisSaver } from "../src/index.js";
import { saverThreadKeys } from "../src/keys.js";
import { replyGraph } from "./chat-thread.js";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
const client = new Redis(process.env.REDIS_URL!);
const saver = new RedisSaver({ client, keyPrefix: "bl" });
const g = replyGraph(saver as never, "delta", ((m: unknown[]) => [new AIMessage({ content: "word ".repeat(80), id: `a${m.length}` })]) as never);
for (let t = 0; t < 95; t++) await g.invoke({ messages: [new HumanMessage({ content: "ques ".repeat(40), id: `q${t}` })] }, { configurable: { thread_id: "c" }, metadata: { run_id: `r${t}` } });
const k = saverThreadKeys("bl", "c");
const b = await client.hgetallBuffer(k.blobs);
const by: Record<string, [number, number]> = {};
for (const [f, v] of Object.entries(b)) { const ch = f.split("\0")[1]!; by[ch] ??= [0, 0]; by[ch][0]++; by[ch][1] += v.length; }
console.log(by, "blobs MEMORY", await client.memory("USAGE", k.blobs, "SAMPLES", "0"));
const w = await client.hgetallBuffer(k.writes);
const wb: Record<string, [number, number]> = {};
for (const [, v] of Object.entries(w)) { const len = v.readUInt32BE(1); const chl = v.readUInt32BE(5 + len); const ch = v.subarray(9 + len, 9 + len + chl).toString(); wb[ch] ??= [0, 0]; wb[ch][0]++; wb[ch][1] += v.length; }
console.log(wb, "writes MEMORY", await client.memory("USAGE", k.writes, "SAMPLES", "0"));
console.log("checkpoints", await client.hlen(k.checkpoints));
client.disconnect();

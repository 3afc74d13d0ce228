import { Redis } from "ioredis";
import { LUA_SOURCES } from "../src/lua/generated.js";
const client = new Redis(process.env.REDIS_URL!);
const src = (LUA_SOURCES as Record<string, string>).saverPut!;
const cut = src.indexOf("local checkpoints, blobs, byNamespace, byRun");
const variants: Record<string, string> = {
  full: src,
  includesOnly: src.slice(0, cut) + "\nreturn 0\n",
  empty: "return 0",
};
const keys = ["checkpoints", "blobs", "idx:ns", "idx:id", "writes", "idx:writes", "runs", "idx:run"].map((k) => `lt|saver:{t}:${k}`);
let n = 0;
const rec = Buffer.alloc(600, 97);
const blob = Buffer.alloc(500, 98);
for (const [name, body] of Object.entries(variants)) {
  const sha = (await client.script("LOAD", body)) as string;
  await client.config("RESETSTAT");
  const N = 3000;
  for (let i = 0; i < N; i++) {
    n++;
    await client.evalsha(sha, keys.length, ...keys, 0, `\u0000id${n}`, Buffer.concat([Buffer.from([1, 0, 0, 0, 2]), Buffer.from("p\n"), rec]), "t", 60000, "", 0, "", "", `\u0000ch\u0000${n}`, blob, `\u0000ch2\u0000${n}`, blob);
  }
  const info = (await client.info("commandstats")).split("\n").find((l) => l.startsWith("cmdstat_evalsha"));
  const m = info!.match(/calls=(\d+),usec=(\d+)/)!;
  console.log(name.padEnd(14), (Number(m[2]) / Number(m[1])).toFixed(2), "us/call");
}
client.disconnect();

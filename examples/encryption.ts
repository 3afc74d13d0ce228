// Encryption at rest: a checkpointer and a store whose values reach Redis only as AES-256-GCM ciphertext, and a key
// rotation (old records readable, new ones written with the new key).
// Run: REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/encryption.ts
import { randomBytes } from "node:crypto";
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { clientFromUrl, EncryptedSerializer, RedisSaver, RedisStore } from "langgraph-redis";

const client = clientFromUrl(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const keyPrefix = `example-${Date.now()}`;
// In production: keys from your secret manager, never generated at start-up.
const oldKey = randomBytes(32);
const newKey = randomBytes(32);

const State = Annotation.Root({ card: Annotation<string> });
const build = (keys: Record<string, Buffer>, currentKeyId: string) =>
  new StateGraph(State)
    .addNode("mask", (state: typeof State.State) => ({ card: `**** ${state.card.slice(-4)}` }))
    .addEdge(START, "mask")
    .addEdge("mask", END)
    .compile({
      checkpointer: new RedisSaver({ client, keyPrefix, serde: new EncryptedSerializer({ keys, currentKeyId }) }),
    });

try {
  const config = { configurable: { thread_id: "order-42" } };
  await build({ "2026-10": oldKey }, "2026-10").invoke({ card: "4111 1111 1111 1111" }, config);

  // Rotation: both keys listed, the new one current. The old checkpoints still read.
  const rotated = build({ "2026-10": oldKey, "2026-11": newKey }, "2026-11");
  console.log("state after rotation:", (await rotated.getState(config)).values);

  const store = new RedisStore({
    client,
    keyPrefix,
    encryption: { keys: { "2026-11": newKey }, currentKeyId: "2026-11" },
  });
  await store.put(["customers"], "alice", { iban: "DE89 3704 0044 0532 0130 00" });
  console.log("store value:", (await store.get(["customers"], "alice"))?.value);
  const raw = await client.hgetall(`${keyPrefix}|store:{customers}:items`);
  console.log("what Redis holds:", `${String(raw.alice).split("\n")[1]?.slice(0, 40)}...`);
} finally {
  await client.quit();
}

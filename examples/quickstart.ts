// Connects to the server the library will use and checks that it is new enough.
// Run: REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/quickstart.ts
import { clientFromUrl, isCluster } from "langgraph-redis";

const client = clientFromUrl(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
try {
  const info = await client.info("server");
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown";
  console.log(`connected: ${isCluster(client) ? "cluster" : "standalone"} Redis ${version}`);
} finally {
  await client.quit();
}

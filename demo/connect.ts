/** Clients for the demo's processes: the same URL forms as the library (redis://, rediss://, redis+cluster://). */
import { clientFromUrl, type RedisClient } from "langgraph-redis";

export function connect(url: string): RedisClient {
  return clientFromUrl(url, { maxRetriesPerRequest: 3, connectTimeout: 5000 });
}

export async function closeClient(client: RedisClient): Promise<void> {
  await client.quit().catch(() => client.disconnect());
}

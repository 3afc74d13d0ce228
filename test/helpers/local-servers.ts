/**
 * Dedicated redis-server processes for tests that need a server configured their own way (persistence, ACL users,
 * TLS, replicas) instead of the shared ones. Started on free loopback ports, stopped by pid after the file.
 */
import { spawnSync } from "node:child_process";
import { Redis, type RedisOptions } from "ioredis";
import { afterAll } from "vitest";
import { type LocalRedis, startRedis } from "../../scripts/local-redis.js";

/** Whether this machine can start servers (false when the suite runs only against REDIS_URL servers). */
export const canStartServers = spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;

const started: LocalRedis[] = [];
const clients: Redis[] = [];

afterAll(async () => {
  for (const client of clients.splice(0)) client.disconnect();
  await Promise.all(started.splice(0).map((server) => server.stop()));
});

/** Starts a redis-server with extra command-line config; it is stopped after the test file. */
export async function startServer(args: readonly string[] = []): Promise<LocalRedis> {
  const server = await startRedis(args);
  started.push(server);
  return server;
}

/** A fail-fast client for a dedicated server, disconnected after the test file. */
export function connect(url: string, options: RedisOptions = {}): Redis {
  const client = new Redis(url, {
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    retryStrategy: (times) => (times > 3 ? null : 100),
    ...options,
  });
  clients.push(client);
  return client;
}

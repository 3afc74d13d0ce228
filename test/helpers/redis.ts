/**
 * Clients for tests: fail fast (no endless reconnects), closed after each file, and a random key prefix per test
 * so files run in parallel against the same servers.
 */
import { randomBytes } from "node:crypto";
import { Cluster, Redis } from "ioredis";
import { afterAll, inject } from "vitest";
import { startMonitor } from "../../scripts/monitor.js";
import type { RedisClient } from "../../src/client.js";
import { parseNodes } from "./nodes.js";

const opened = new Set<RedisClient>();

afterAll(async () => {
  await Promise.all([...opened].map((client) => client.quit().catch(() => client.disconnect())));
  opened.clear();
});

export function redisUrl(): string {
  return inject("redisUrl");
}

export function clusterNodes(): { host: string; port: number }[] {
  return parseNodes(inject("clusterNodes"));
}

/** A standalone client that gives up quickly instead of retrying forever. */
export function newRedis(): Redis {
  const client = new Redis(redisUrl(), {
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    retryStrategy: (times) => (times > 3 ? null : 100),
  });
  opened.add(client);
  return client;
}

export function newCluster(): Cluster {
  const client = new Cluster(clusterNodes(), {
    clusterRetryStrategy: (times) => (times > 3 ? null : 100),
    redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 5000 },
  });
  opened.add(client);
  return client;
}

/** A key prefix no other test uses. */
export function testPrefix(label = "t"): string {
  return `${label}${randomBytes(6).toString("hex")}`;
}

/** Both deployment kinds, for describe.each: every capability is tested on each. */
export const targets: { name: "standalone" | "cluster"; connect: () => RedisClient }[] = [
  { name: "standalone", connect: newRedis },
  { name: "cluster", connect: newCluster },
];

/**
 * Every command the standalone server runs (inside scripts too) that names a key under `prefix` while `action` runs,
 * upper-cased, in order: read with MONITOR.
 */
export async function commandsFor(client: Redis, prefix: string, action: () => Promise<unknown>): Promise<string[]> {
  const url = new URL(redisUrl());
  const monitor = await startMonitor({
    host: url.hostname,
    port: Number(url.port || 6379),
    username: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
  });
  const sentinel = `${prefix}:end-of-action`;
  const seen: string[] = [];
  let ended!: () => void;
  const end = new Promise<void>((resolve) => {
    ended = resolve;
  });
  monitor.on(({ args }) => {
    if (args.includes(sentinel)) ended();
    else if (args.some((arg) => arg.includes(prefix))) seen.push(String(args[0]).toUpperCase());
  });
  try {
    await action();
    // MONITOR streams asynchronously: wait until it has shown a command sent after the action.
    await client.get(sentinel);
    await end;
  } finally {
    monitor.close();
  }
  return seen;
}

/**
 * Set-up shared by the offline tests: a loopback proxy the test cuts to make Redis unreachable for one client only,
 * throwaway journal directories, a wait for the "online" event, and the clean-up that undoes all of it after each
 * test (in reverse order).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import type { ReplayResult } from "../../src/index.js";
import { redisUrl } from "../helpers/redis.js";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.js";

/** The offline option the tests use: a quick probe, and a bound well above a loaded machine's round trip. */
export function quickOffline(journalDir: string, extra: Record<string, unknown> = {}) {
  return { journalDir, probeIntervalMs: 100, unreachableAfterMs: 5000, ...extra };
}

/** Anything with the offline events: RedisSaver, RedisStore. */
interface OnlineSource {
  on(event: "online", listener: (result: ReplayResult) => void): unknown;
}

/** Resolves with the next "online" event's ReplayResult; rejects after limitMs. */
export function nextOnline(source: OnlineSource, limitMs = 30_000): Promise<ReplayResult> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not online within ${limitMs} ms`)), limitMs);
    source.on("online", (result) => {
      clearTimeout(timer);
      resolve(result);
    });
  });
}

/** Registers the after-each clean-up of the calling test file; returns what pushes onto it. */
export function offlineFixtures() {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** A fresh directory, removed after the test. */
  function journalDir(label = "offline"): string {
    const dir = mkdtempSync(join(tmpdir(), `lgr-${label}-`));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  /** A client that reaches the standalone server through a proxy the test can cut and restore. */
  async function proxied(): Promise<{ proxy: TcpProxy; client: Redis }> {
    const proxy = await startTcpProxy(Number(new URL(redisUrl()).port));
    // keeps reconnecting (as a production client does), and fails queued commands fast
    const client = new Redis(proxy.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50, connectTimeout: 2000 });
    client.on("error", () => undefined);
    cleanup.push(async () => {
      client.disconnect();
      await proxy.close();
    });
    await client.ping();
    return { proxy, client };
  }

  return { cleanup, journalDir, proxied };
}

/**
 * Opens the inspector's connection: clientFromUrl with fail-fast settings (no endless reconnects, a bounded
 * connect), then one PING, so a wrong URL, a server that is down or bad credentials end the command at once with
 * the reason ioredis saw (ECONNREFUSED, WRONGPASS) instead of a hang or "Connection is closed".
 */
import { once } from "node:events";
import { clientFromUrl, type RedisClient } from "../client.js";
import { RedisConnectionError } from "../errors.js";
import { InspectorUsageError } from "./errors.js";

export interface Connection {
  readonly client: RedisClient;
  close(): Promise<void>;
}

/** `sentinelPassword`: the sentinels' own password, for a `redis+sentinel://` URL (the URL's is the servers'). */
export async function connect(url: string, connectTimeoutMs: number, sentinelPassword?: string): Promise<Connection> {
  let lastError: Error | undefined;
  let client: RedisClient;
  try {
    client = clientFromUrl(url, {
      connectTimeout: connectTimeoutMs,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
      sentinelRetryStrategy: () => null,
      ...(sentinelPassword ? { sentinelPassword } : {}),
      lazyConnect: true,
      cluster: { clusterRetryStrategy: () => null, lazyConnect: true, slotsRefreshTimeout: connectTimeoutMs },
    });
  } catch (error) {
    // clientFromUrl names what is wrong with a malformed URL (password masked): a usage error, not a connection one.
    throw new InspectorUsageError(`--url: ${(error as Error).message}`, { cause: error });
  }
  client.on("error", (error: Error) => {
    lastError = error;
  });
  const close = async () => {
    if (client.status === "end") return;
    const ended = once(client, "end").catch(() => undefined);
    await client.quit().catch(() => client.disconnect());
    await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    client.disconnect();
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RedisConnectionError(`no answer within ${connectTimeoutMs} ms`)),
        connectTimeoutMs + 500,
      );
    });
    // A user the ACL denies PING is still connected: the commands themselves say what they may not do.
    const ping = () =>
      client.ping().catch((error: Error) => (/^NOPERM/.test(error.message) ? "PONG" : Promise.reject(error)));
    await Promise.race([client.connect().then(ping), timeout]);
  } catch (error) {
    await close().catch(() => undefined);
    // The connect/ping error is often only "Connection is closed"; the event carries the cause (ECONNREFUSED...).
    const cause = lastError ?? error;
    if (cause instanceof Error && /WRONGPASS|NOAUTH|NOPERM/.test(cause.message)) throw cause;
    throw new RedisConnectionError(cause instanceof Error ? cause.message : String(cause), { cause });
  } finally {
    clearTimeout(timer);
  }
  return { client, close };
}

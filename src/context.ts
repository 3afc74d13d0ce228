/**
 * The one context every capability builds on: the client, whether it is a cluster, the key prefix, the durability
 * option, a single `ready()` (registers the Lua scripts on the client and checks the server version once), and a
 * `close()` that closes the client only when the library opened it.
 */
import { once } from "node:events";
import { isCluster, type RedisClient, requireServerVersion, takeOpenedClient } from "./client.js";
import { type DurabilityOptions, WriteDurability } from "./durability.js";
import { CorruptDataError, UnsupportedServerError } from "./errors.js";
import { registerScripts } from "./lua/index.js";
import { toNamedRedisError } from "./redis-errors.js";

/** ZRANGE ... BYLEX REV LIMIT (the saver's index reads) and GETDEL-era commands arrived in Redis 6.2. */
export const MIN_SERVER_VERSION = [6, 2, 0] as const;

export interface RedisContext {
  readonly client: RedisClient;
  readonly cluster: boolean;
  /** Prefix of every key this component writes. */
  readonly keyPrefix: string;
  /** Who is calling, for messages: "RedisSaver", "RedisStore", "guarded()", "withRunLease". */
  readonly component: string;
  /** The durability option: the start-up persistence check and the waits after each write. */
  readonly durability: WriteDurability;
  /** The error a key of the wrong Redis type is reported as (CorruptCheckpointError for the saver). */
  readonly corruptError: typeof CorruptDataError;
  /**
   * Registers the scripts on the client and, for components that need one, checks the server version: once; a
   * verdict on the version is final, a connection failure is not (the next call checks again).
   */
  ready(): Promise<void>;
  /** Whether ready() has succeeded (calls then skip waiting for it). */
  isReady(): boolean;
  /** Closes the client if this component opened it (fromUrl); a client passed in stays open. */
  close(): Promise<void>;
}

export interface RedisContextOptions {
  readonly client: RedisClient;
  readonly keyPrefix: string;
  readonly component: string;
  readonly durability?: DurabilityOptions | undefined;
  /** Oldest server version this component works with; unset: no check. */
  readonly minServerVersion?: readonly [number, number, number] | undefined;
  readonly corruptError?: typeof CorruptDataError;
}

export function createRedisContext(options: RedisContextOptions): RedisContext {
  const { client, minServerVersion, component } = options;
  let owned = takeOpenedClient(client);
  let checked: Promise<void> | undefined;
  let readied = false;
  return {
    client,
    cluster: isCluster(client),
    keyPrefix: options.keyPrefix,
    component,
    durability: new WriteDurability(client, options.durability, component),
    corruptError: options.corruptError ?? CorruptDataError,
    ready() {
      if (checked) return checked;
      registerScripts(client);
      if (minServerVersion === undefined) {
        readied = true;
        checked = Promise.resolve();
        return checked;
      }
      checked = requireServerVersion(client, minServerVersion, component).then(
        () => {
          readied = true;
        },
        (error: unknown) => {
          if (!(error instanceof UnsupportedServerError)) checked = undefined;
          throw toNamedRedisError(error, component, false);
        },
      );
      return checked;
    },
    isReady: () => readied,
    async close() {
      if (!owned) return;
      owned = false;
      if (client.status === "end") return;
      // QUIT only reaches a server we are connected to: a client still (re)connecting would queue it until the
      // server is back, and close() would never return while Redis is down. Such a client is disconnected instead
      // (its reconnect timer is cleared; ioredis emits no "end" for it, so there is nothing to wait for).
      if (client.status !== "ready") {
        client.disconnect();
        return;
      }
      const ended = once(client, "end");
      await client.quit().catch(() => client.disconnect());
      await ended;
    },
  };
}

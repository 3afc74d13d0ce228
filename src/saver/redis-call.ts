/**
 * Runs one saver round trip and turns Redis failures into the library's named errors:
 * - WRONGTYPE (a key of ours holds another type): CorruptCheckpointError naming that key;
 * - an unknown or disabled command: UnsupportedServerError;
 * - a lost or refused connection: RedisConnectionError.
 */
import type { RedisClient } from "../client.js";
import { CorruptCheckpointError, LangGraphRedisError, UnsupportedServerError } from "../errors.js";
import { toNamedRedisError } from "../redis-errors.js";
import type { SaverContext } from "./context.js";

/** Thread keys are hashes except the `:idx:` sorted sets; the cross-thread index (no hash tag) is a sorted set. */
function expectedType(key: string): string {
  if (key.includes(":saver:run:{")) return "set";
  const tagEnd = key.lastIndexOf("}");
  if (tagEnd < 0) return "zset";
  return key.slice(tagEnd + 1).startsWith(":idx:") ? "zset" : "hash";
}

/**
 * `keys` are the keys the call touches, so a WRONGTYPE reply can be traced to the one that holds the wrong type
 * (one TYPE per key, only on that failure path).
 */
export async function redisCall<T>(
  context: SaverContext,
  keys: readonly string[],
  call: (client: RedisClient) => Promise<T>,
): Promise<T> {
  try {
    await context.ready();
    return await call(context.client);
  } catch (error) {
    throw await namedError(context.client, keys, error);
  }
}

async function namedError(client: RedisClient, keys: readonly string[], error: unknown): Promise<unknown> {
  if (error instanceof LangGraphRedisError || !(error instanceof Error)) return error;
  const message = error.message;
  if (message.includes("WRONGTYPE")) {
    const key = await findWrongTypeKey(client, keys);
    return new CorruptCheckpointError(key ?? keys.join(", "), "holds a value of the wrong Redis type", {
      cause: error,
    });
  }
  if (/unknown command|Unknown Redis command/i.test(message)) {
    return new UnsupportedServerError(`The Redis server rejected a command the saver needs: ${message}`, {
      cause: error,
    });
  }
  return toNamedRedisError(error, "RedisSaver", false);
}

async function findWrongTypeKey(client: RedisClient, keys: readonly string[]): Promise<string | undefined> {
  for (const key of keys) {
    try {
      const actual = await client.type(key);
      if (actual !== "none" && actual !== expectedType(key)) return key;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

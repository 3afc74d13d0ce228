/**
 * pin(threadId) / unpin(threadId): exempts a thread from retention (the `retention` option), prune() and the
 * keepLatest TTL sweep, or ends the exemption. The mark lives in the thread's own slot (saverPin), so the trimming
 * scripts read it atomically with what they trim. deleteThread still deletes a pinned thread, and under the
 * "delete" TTL strategy a pinned thread still expires when idle.
 */
import { saverThreadKeys } from "../keys.js";
import { callScript } from "../lua/index.js";
import { redisCall } from "../redis-call.js";
import { requireThreadId } from "./config.js";
import type { SaverContext } from "./context.js";
import { requireWellFormedInput } from "./well-formed.js";

/** Marks (pinned true) or unmarks the thread; true when its mark changed. */
export async function setPinned(context: SaverContext, threadId: string, pinned: boolean): Promise<boolean> {
  const operation = pinned ? "RedisSaver.pin" : "RedisSaver.unpin";
  const id = requireThreadId(threadId, operation);
  requireWellFormedInput({ threadId: id }, operation);
  const { runFences } = saverThreadKeys(context.keyPrefix, id);
  return redisCall(context, { operation, write: true, keys: [runFences] }, (client) =>
    callScript(client, "saverPin", { runFences }, [pinned ? "1" : "0", context.ttlMs]),
  );
}

export async function isPinned(context: SaverContext, threadId: string): Promise<boolean> {
  const operation = "RedisSaver.isPinned";
  const id = requireThreadId(threadId, operation);
  requireWellFormedInput({ threadId: id }, operation);
  const { runFences } = saverThreadKeys(context.keyPrefix, id);
  const found = await redisCall(context, { operation, write: false, keys: [runFences] }, (client) =>
    client.hexists(runFences, "pinned"),
  );
  return found === 1;
}

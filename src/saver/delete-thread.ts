/**
 * deleteThread(): removes every key of the thread with one UNLINK (all keys share the thread's slot, so the
 * removal is atomic and the memory is freed off the main thread), then the thread's registry entry (record and
 * cross-thread index entry, in its bucket).
 */
import { saverThreadKeys } from "../keys.js";
import { redisCall } from "../redis-call.js";
import { requireThreadId } from "./config.js";
import type { SaverContext } from "./context.js";
import { forgetThread } from "./thread-index.js";
import { requireWellFormedInput } from "./well-formed.js";

export async function deleteThread(context: SaverContext, threadId: string): Promise<void> {
  const id = requireThreadId(threadId, "RedisSaver.deleteThread");
  requireWellFormedInput({ threadId: id }, "RedisSaver.deleteThread");
  const keys = saverThreadKeys(context.keyPrefix, id);
  context.deltas?.forget(id);
  const site = { operation: "RedisSaver.deleteThread", write: true, keys: keys.all };
  await redisCall(context, site, (client) => client.unlink(...keys.all));
  await forgetThread(context, id);
}

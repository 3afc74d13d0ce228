/**
 * deleteThread(): removes every key of the thread with one UNLINK in a script (all keys share the thread's slot, so
 * the removal is atomic and the memory is freed off the main thread), then the thread's registry entry (record and
 * cross-thread index entry, in its bucket) and the thread's entries in the hashes of the runs that wrote it. A thread
 * a live leased run is writing is refused (ThreadLeasedError, nothing removed), checked in the same script, as
 * deleteForRuns and copyThread refuse it.
 */
import { ThreadLeasedError } from "../errors.js";
import { saverThreadKeys } from "../keys.js";
import { callScript } from "../lua/index.js";
import { redisCall } from "../redis-call.js";
import { requireThreadId } from "./config.js";
import { forgetHistories, type SaverContext } from "./context.js";
import { dropThreadFromRuns } from "./run-index.js";
import { forgetThread } from "./thread-index.js";
import { requireWellFormedInput } from "./well-formed.js";

export async function deleteThread(context: SaverContext, threadId: string): Promise<void> {
  const operation = "RedisSaver.deleteThread";
  const id = requireThreadId(threadId, operation);
  requireWellFormedInput({ threadId: id }, operation);
  const keys = saverThreadKeys(context.keyPrefix, id);
  context.deltas?.forget(id);
  const site = { operation, write: true, keys: keys.all };
  const { liveRuns, forgottenRuns } = await redisCall(context, site, (client) =>
    callScript(client, "saverDeleteThread", keys, []),
  );
  forgetHistories(context, id);
  if (liveRuns) throw new ThreadLeasedError(id, liveRuns, operation);
  // The runs that wrote the thread no longer lead to it (their hashes live in their own slots).
  await dropThreadFromRuns(context, id, forgottenRuns);
  await forgetThread(context, id);
}

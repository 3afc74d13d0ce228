/**
 * putWrites(): serialises one task's writes and stores them with one script (saverPutWrites). Special writes
 * (error, scheduled, interrupt, resume; negative WRITES_IDX_MAP indexes) overwrite, normal ones are kept if already
 * there, so a retried task never replaces its first attempt. The checkpoint need not exist yet.
 *
 * The cross-thread index needs a touch only with a TTL (writes then extend the thread's life, and idle entries are
 * trimmed); without one, put() already indexed the thread and nothing trims it. The touch rides in the same script
 * on a standalone server, beside it on a cluster.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import { type PendingWrite, WRITES_IDX_MAP } from "@langchain/langgraph-checkpoint";
import { InvalidInputError } from "../errors.js";
import { saverThreadKeys } from "../keys.js";
import { callScript, type ScriptArgs } from "../lua/index.js";
import { redisCall } from "../redis-call.js";
import { frame, writeField } from "./codec.js";
import { readThreadConfig, requireCheckpointId } from "./config.js";
import type { SaverContext } from "./context.js";
import { dumpCheckpointValue } from "./dump-checkpoint-value.js";
import { inScriptThreadIndexKey, TRIM_GRACE_MS, touchThread } from "./thread-index.js";
import { requireWellFormed, requireWellFormedInput } from "./well-formed.js";

export async function putWrites(
  context: SaverContext,
  config: RunnableConfig,
  writes: PendingWrite[],
  taskId: string,
  taskPath = "",
): Promise<void> {
  const operation = "RedisSaver.putWrites";
  const thread = readThreadConfig(config, operation);
  const checkpointId = requireCheckpointId(thread, operation);
  const { threadId, ns } = thread;
  if (typeof taskId !== "string") {
    throw new InvalidInputError(`${operation}: taskId must be a string, received ${typeof taskId}`);
  }
  if (!Array.isArray(writes)) throw new InvalidInputError(`${operation}: writes must be an array`);
  requireWellFormed({ thread_id: threadId, checkpoint_ns: ns, checkpoint_id: checkpointId }, operation);
  requireWellFormedInput({ taskId, taskPath }, operation);
  for (const [channel] of writes) requireWellFormedInput({ "channel name": String(channel) }, operation);
  if (writes.length === 0) return;
  const keys = saverThreadKeys(context.keyPrefix, threadId);

  const entries = await Promise.all(
    writes.map(async ([channel, value], position) => {
      const idx = WRITES_IDX_MAP[channel] ?? position;
      const [type, bytes] = await dumpCheckpointValue(
        context.serde,
        value,
        () => `${operation}: the value written to channel ${JSON.stringify(channel)}`,
        context.maxValueBytes,
      );
      return [
        writeField(ns, checkpointId, taskId, idx),
        idx < 0 ? "1" : "0",
        frame([taskId, channel, type, bytes, taskPath, String(idx)]),
      ] as const;
    }),
  );
  const args: ScriptArgs<"saverPutWrites"> = [context.ttlMs, threadId, TRIM_GRACE_MS, ...entries.flat()];
  const indexKey = context.ttlMs > 0 ? inScriptThreadIndexKey(context) : undefined;
  await context.durability.ready();
  const write = redisCall(context, { operation: "RedisSaver.putWrites", write: true }, (client) =>
    callScript(client, "saverPutWrites", { ...keys, threadIndex: indexKey }, args),
  );
  if (context.ttlMs > 0 && indexKey === undefined) await Promise.all([write, touchThread(context, threadId)]);
  else await write;
  await context.durability.afterWrite(keys.writes, `RedisSaver.putWrites of task ${JSON.stringify(taskId)}`);
}

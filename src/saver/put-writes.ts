/**
 * putWrites(): serialises one task's writes and stores them with one script (saverPutWrites, or
 * saverPutWritesCompact without a TTL or a lease fence): into the bundle of its checkpoint's pending writes while
 * that stays small, else each in its own field (see src/saver/codec.ts), as PACKED_WRITE frames (write-frame.ts)
 * unless the `compression` option is `false`. Special writes (error, scheduled, interrupt, resume; negative
 * WRITES_IDX_MAP indexes) replace the stored write of the same (task, idx), normal ones are kept if already
 * there, so a retried task never replaces its first attempt. The checkpoint need not exist yet.
 *
 * The cross-thread index needs a touch only with a TTL (writes then extend the thread's life, and idle entries are
 * trimmed); without one, put() already indexed the thread and nothing trims it. The touch rides in the same script
 * on a standalone server, beside it on a cluster.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import { type PendingWrite, WRITES_IDX_MAP } from "@langchain/langgraph-checkpoint";
import { withAuditContext } from "../audit/outbox.js";
import type { RedisClient } from "../client.js";
import { maybeCompress } from "../compression.js";
import { CorruptCheckpointError, InvalidInputError } from "../errors.js";
import { callScript, type ScriptArg, type ScriptArgs } from "../lua/index.js";
import { redisCall } from "../redis-call.js";
import { checkpointField, FrameFormat, frame, writeField } from "./codec.js";
import { readThreadConfig, requireCheckpointId } from "./config.js";
import type { SaverContext } from "./context.js";
import { dumpCheckpointValues } from "./dump-checkpoint-value.js";
import { checkFenced, readRunFence, runFenceArgs } from "./run-fence.js";
import { inScriptThreadIndexKey, TRIM_GRACE_MS, touchThread } from "./thread-index.js";
import { requireWellFormed, requireWellFormedInput } from "./well-formed.js";
import { packWrite } from "./write-frame.js";

const PUT_WRITES_SITE = { operation: "RedisSaver.putWrites", write: true } as const;

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
  const fence = readRunFence(config, operation);
  if (typeof taskId !== "string") {
    throw new InvalidInputError(`${operation}: taskId must be a string, received ${typeof taskId}`);
  }
  if (!Array.isArray(writes)) throw new InvalidInputError(`${operation}: writes must be an array`);
  requireWellFormed({ thread_id: threadId, checkpoint_ns: ns, checkpoint_id: checkpointId }, operation);
  requireWellFormedInput({ taskId, taskPath }, operation);
  for (const [channel] of writes) requireWellFormedInput({ "channel name": String(channel) }, operation);
  if (writes.length === 0) return;
  const threadKeys = context.threadKeys.get(threadId);
  const keys = threadKeys.thread;

  // The values at once where the fast path takes them (no Promise per write); compression, when on, waits for zlib.
  const dumping = dumpCheckpointValues(
    context.serde,
    writes.map(([channel, value]) => ({
      value,
      describe: () => `${operation}: the value written to channel ${JSON.stringify(channel)}`,
      messageTokens: context.packRecords,
    })),
    context.maxValueBytes,
  );
  const dumped = dumping instanceof Promise ? await dumping : dumping;
  const deflated =
    context.compression === undefined
      ? undefined
      : await Promise.all(dumped.map(([, bytes]) => maybeCompress(context.compression, bytes)));
  const entries = writes.map(([channel], position) => {
    const idx = WRITES_IDX_MAP[channel] ?? position;
    const [type, bytes] = dumped[position] as [string, Uint8Array];
    const packed = deflated?.[position];
    return [
      writeField(ns, checkpointId, taskId, idx),
      idx < 0 ? "1" : "0",
      context.packRecords
        ? packWrite(taskId, channel, type, packed ?? bytes, taskPath, idx, packed !== undefined)
        : packed === undefined
          ? frame([taskId, channel, type, bytes, taskPath, String(idx)])
          : frame([taskId, channel, type, packed, taskPath, String(idx)], FrameFormat.DEFLATED),
    ] as const;
  });
  const field = checkpointField(ns, checkpointId);
  // Without a TTL or a lease fence, saverPutWritesCompact: the same writes from 2 keys and 1 argument (before the
  // writes) instead of 8 and 6, each of which costs both sides on every call.
  const compact = context.ttlMs === 0 && fence === undefined;
  const args: ScriptArg[] = compact ? [field] : [context.ttlMs, threadId, TRIM_GRACE_MS, ...runFenceArgs(fence), field];
  for (const entry of entries) args.push(entry[0], entry[1], entry[2]);
  const indexKey = context.ttlMs > 0 ? inScriptThreadIndexKey(context, threadKeys) : undefined;
  if (!context.durability.isReady) await context.durability.ready();
  const audit = context.audit;
  const call = (client: RedisClient, outbox: string | undefined, sent: ScriptArg[]) =>
    compact
      ? callScript(client, "saverPutWritesCompact", { ...keys, outbox }, sent as ScriptArgs<"saverPutWritesCompact">)
      : callScript(
          client,
          "saverPutWrites",
          { ...keys, threadIndex: indexKey, outbox },
          sent as ScriptArgs<"saverPutWrites">,
        );
  const write = redisCall(context, PUT_WRITES_SITE, (client) =>
    audit
      ? audit.stream(keys.writes).then((outbox) =>
          call(
            client,
            outbox,
            withAuditContext(args, {
              threadId,
              checkpointNs: ns,
              checkpointId,
              taskId,
              taskPath: taskPath || undefined,
              channels: writes.map(([channel]) => String(channel)),
              node: typeof config.metadata?.langgraph_node === "string" ? config.metadata.langgraph_node : undefined,
              runId: typeof config.configurable?.run_id === "string" ? config.configurable.run_id : undefined,
              agent:
                audit.agentId ??
                (typeof config.configurable?.agent_id === "string" ? config.configurable.agent_id : undefined),
            }),
          ),
        )
      : call(client, undefined, args),
  );
  const touch = context.ttlMs > 0 && indexKey === undefined ? touchThread(context, threadId) : undefined;
  const reply = touch === undefined ? await write : (await Promise.all([write, touch]))[0];
  checkFenced(reply, fence, operation);
  if (reply.unreadable) {
    throw new CorruptCheckpointError(
      keys.writes,
      `the pending writes of checkpoint ${JSON.stringify(checkpointId)} (namespace ${JSON.stringify(ns)}) cannot be decoded; nothing was written`,
    );
  }
  if (context.durability.waits) {
    await context.durability.afterWrite(keys.writes, `RedisSaver.putWrites of task ${JSON.stringify(taskId)}`);
  }
}

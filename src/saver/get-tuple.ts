/**
 * getTuple(): one read script round trip for the checkpoint named by checkpoint_id, or the newest one of the
 * namespace when the config names none. A config without thread_id has no checkpoint (as with LangGraph's savers).
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import type { CheckpointTuple } from "@langchain/langgraph-checkpoint";
import { escapePart } from "./codec.js";
import { readOptionalThreadConfig } from "./config.js";
import type { SaverContext } from "./context.js";
import { decodeCheckpoint } from "./decode.js";
import { exactRange, namespaceRange, readCheckpoints } from "./read.js";
import { requireWellFormed } from "./well-formed.js";

export async function getTuple(context: SaverContext, config: RunnableConfig): Promise<CheckpointTuple | undefined> {
  const { threadId, ns = "", checkpointId } = readOptionalThreadConfig(config, "RedisSaver.getTuple");
  if (threadId === undefined) return undefined;
  requireWellFormed(
    { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: checkpointId ?? "" },
    "RedisSaver.getTuple",
  );
  const range = checkpointId === undefined ? namespaceRange(ns, undefined, 1) : exactRange(ns, checkpointId);
  // The read brings the checkpoint's DeltaChannel history (delta-history-read-ahead.ts) unless what this process
  // holds answers it (time travel to a state it loaded a descendant of).
  const held = checkpointId !== undefined && context.deltaHistory?.covers(threadId, ns, escapePart(checkpointId));
  const { checkpoints } = await readCheckpoints(context, threadId, range, ns, held ? undefined : "tuple");
  const raw = checkpoints[0];
  if (raw === undefined) return undefined;
  return (await decodeCheckpoint(context, threadId, raw)).tuple;
}

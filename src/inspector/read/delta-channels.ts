/**
 * DeltaChannel values for the inspector. LangGraph stores a DeltaChannel's value only at its snapshots (a
 * DeltaSnapshot in channel_values) and otherwise rebuilds it from the ancestors' writes through the channel's
 * reducer, which lives in the graph, not in Redis. The inspector reads that history as LangGraph does
 * (RedisSaver.getDeltaChannelHistory) and rebuilds message lists with LangGraph's own DeltaChannel and messages
 * reducer (messagesDeltaReducer, what MessagesDeltaValue uses); any other channel is shown as its snapshot and the
 * writes since, since replaying them needs the graph's reducer.
 */
import type { BaseMessage } from "@langchain/core/messages";
import { DeltaChannel, messagesDeltaReducer } from "@langchain/langgraph";
import { type CheckpointPendingWrite, type CheckpointTuple, isDeltaSnapshot } from "@langchain/langgraph-checkpoint";
import { deltaSnapshotCounters, updatesSinceSnapshot } from "../../saver/delta-counters.js";
import type { RedisSaver } from "../../saver/redis-saver.js";
import { isMessage } from "./values.js";

/** A DeltaChannel of one checkpoint, as the inspector shows it. */
export type DeltaChannelValue =
  | {
      /** Rebuilt with LangGraph's messages reducer: `value` is the channel's value at the checkpoint. */
      readonly rebuilt: true;
      readonly value: unknown;
      /** Updates since the channel's last snapshot (the checkpoint's counters_since_delta_snapshot), if recorded. */
      readonly updatesSinceSnapshot?: number;
      /** Writes read from the ancestors (0 when the checkpoint holds the snapshot itself). */
      readonly writes: number;
    }
  | {
      /** Not message values: the snapshot (undefined when the walk found none) and the writes since, oldest first. */
      readonly rebuilt: false;
      readonly snapshot: unknown;
      readonly writeValues: readonly unknown[];
      readonly updatesSinceSnapshot?: number;
    };

function updatesOf(tuple: CheckpointTuple, channel: string): { updatesSinceSnapshot?: number } {
  const updates = updatesSinceSnapshot(tuple.metadata, channel);
  return updates === undefined ? {} : { updatesSinceSnapshot: updates };
}

function isMessageValue(value: unknown): boolean {
  return isMessage(value) || (Array.isArray(value) && value.every(isMessage));
}

/** The channel's value from its seed and writes, as LangGraph's DeltaChannel with the messages reducer gives it. */
function replayMessages(seed: unknown, writes: CheckpointPendingWrite[]): unknown {
  const channel = new DeltaChannel<BaseMessage[], BaseMessage[]>(
    messagesDeltaReducer as (state: BaseMessage[], writes: BaseMessage[][]) => BaseMessage[],
  ).fromCheckpoint(seed as never);
  channel.replayWrites(writes);
  return channel.isAvailable() ? channel.get() : [];
}

/**
 * Every DeltaChannel of the checkpoint, by channel: those holding their snapshot here (unwrapped) and those left to
 * the ancestors' writes (one history read for all of them). Other channels are not in the map.
 */
export async function readDeltaChannels(
  saver: RedisSaver,
  tuple: CheckpointTuple,
): Promise<Map<string, DeltaChannelValue>> {
  const values = tuple.checkpoint.channel_values as Record<string, unknown>;
  const out = new Map<string, DeltaChannelValue>();
  for (const [channel, value] of Object.entries(values)) {
    if (isDeltaSnapshot(value)) {
      out.set(channel, { rebuilt: true, value: value.value, writes: 0, ...updatesOf(tuple, channel) });
    }
  }
  // A channel counted since its snapshot, with a version but no value here: its value is in the ancestors' writes.
  const inHistory = Object.keys(deltaSnapshotCounters(tuple.metadata) ?? {}).filter(
    (channel) => Object.hasOwn(tuple.checkpoint.channel_versions, channel) && !Object.hasOwn(values, channel),
  );
  if (inHistory.length === 0) return out;
  const history = await saver.getDeltaChannelHistory({ config: tuple.config, channels: inHistory });
  for (const channel of inHistory) {
    const { seed, writes } = history[channel] ?? { writes: [] };
    const snapshot = isDeltaSnapshot(seed) ? seed.value : seed;
    const updates = updatesOf(tuple, channel);
    const messages =
      (snapshot === undefined || isMessageValue(snapshot)) && writes.every(([, , value]) => isMessageValue(value));
    if (messages) {
      try {
        out.set(channel, { rebuilt: true, value: replayMessages(seed, writes), writes: writes.length, ...updates });
        continue;
      } catch {
        // Values the messages reducer refuses (a custom reducer's own shapes): shown as stored below.
      }
    }
    out.set(channel, { rebuilt: false, snapshot, writeValues: writes.map(([, , value]) => value), ...updates });
  }
  return out;
}

import { type CommandContext, type CommandResult, requireArg, stringOption } from "../context.js";
import { InspectorNotFoundError } from "../errors.js";
import { formatTime, plural } from "../output.js";
import { describeCheckpoint } from "../read/checkpoints.js";
import { type DeltaChannelValue, readDeltaChannels } from "../read/delta-channels.js";
import { isMessageList, plainMessage, toPlain, transcript } from "../read/values.js";

/** `state <thread> [--checkpoint id] [--ns namespace]`: the channel values, messages as a transcript. */
export async function stateCommand(ctx: CommandContext): Promise<CommandResult> {
  const threadId = requireArg(ctx, 0, "thread");
  const checkpointId = stringOption(ctx, "checkpoint");
  const ns = stringOption(ctx, "ns") ?? "";
  const configurable: Record<string, string> = { thread_id: threadId, checkpoint_ns: ns };
  if (checkpointId !== undefined) configurable.checkpoint_id = checkpointId;
  const tuple = await ctx.saver.getTuple({ configurable });
  if (tuple === undefined) {
    throw new InspectorNotFoundError(
      checkpointId === undefined
        ? `thread ${JSON.stringify(threadId)} has no checkpoint under the prefix ${JSON.stringify(ctx.prefix)}` +
            `${ns ? ` in namespace ${JSON.stringify(ns)}` : ""}: list the threads with \`langgraph-redis threads\``
        : `thread ${JSON.stringify(threadId)} has no checkpoint ${JSON.stringify(checkpointId)}: list its ` +
            `checkpoints with \`langgraph-redis history ${threadId}\``,
    );
  }
  const parent = tuple.parentConfig ? await ctx.saver.getTuple(tuple.parentConfig) : undefined;
  const info = describeCheckpoint(tuple, parent, 0);
  const channelValues = tuple.checkpoint.channel_values as Record<string, unknown>;
  const deltaChannels = await readDeltaChannels(ctx.saver, tuple);
  const values: Record<string, unknown> = {};
  const deltaInfo: Record<string, DeltaChannelInfo> = {};
  const sections: string[] = [];
  const channels = [...new Set([...Object.keys(channelValues), ...deltaChannels.keys()])].sort((a, b) =>
    a.localeCompare(b),
  );
  for (const channel of channels) {
    if (channel.startsWith("branch:to:") || channel === "__start__") continue;
    const delta = deltaChannels.get(channel);
    if (delta !== undefined) deltaInfo[channel] = deltaChannelInfo(delta);
    if (delta !== undefined && !delta.rebuilt) {
      values[channel] = { snapshot: toPlain(delta.snapshot), writes: delta.writeValues.map((value) => toPlain(value)) };
      sections.push(unrebuiltSection(channel, delta.snapshot, delta.writeValues));
      continue;
    }
    const value = delta !== undefined ? delta.value : channelValues[channel];
    const note = delta === undefined ? "" : deltaNote(delta.writes);
    if (isMessageList(value)) {
      const messages = value.map(plainMessage);
      values[channel] = messages;
      sections.push(`${channel} (${messages.length} messages${note && `; ${note}`}):\n${indent(transcript(messages))}`);
    } else {
      values[channel] = toPlain(value);
      const json = JSON.stringify(values[channel], null, 2) ?? "null";
      sections.push(`${channel}${note && ` (${note})`}:\n${indent(json)}`);
    }
  }
  const { bytes: _bytes, ...checkpoint } = info;
  const header = [
    `thread ${threadId}  checkpoint ${info.checkpointId}  step ${info.step ?? "-"}  source ${info.source ?? "-"}`,
    `time ${formatTime(info.timeMs)}  written by ${info.writers.join(", ") || "-"}  next ${info.next.join(", ") || "-"}`,
  ];
  if (info.pendingWrites.length > 0) {
    header.push(`pending writes: ${info.pendingWrites.map((w) => w.channel).join(", ")}`);
  }
  return {
    data: { threadId, checkpoint, values, ...(Object.keys(deltaInfo).length > 0 ? { deltaChannels: deltaInfo } : {}) },
    text: `${header.join("\n")}\n\n${sections.join("\n\n") || "(no channel values)"}`,
  };
}

/** What `--json` says of a DeltaChannel (under `deltaChannels`). */
interface DeltaChannelInfo {
  readonly rebuilt: boolean;
  readonly writes: number;
  readonly updatesSinceSnapshot?: number;
}

function deltaChannelInfo(delta: DeltaChannelValue): DeltaChannelInfo {
  const writes = delta.rebuilt ? delta.writes : delta.writeValues.length;
  const { updatesSinceSnapshot } = delta;
  return { rebuilt: delta.rebuilt, writes, ...(updatesSinceSnapshot !== undefined ? { updatesSinceSnapshot } : {}) };
}

function deltaNote(writes: number): string {
  return writes > 0 ? `DeltaChannel, its snapshot and ${plural(writes, "write")} since` : "DeltaChannel snapshot";
}

/** A DeltaChannel whose values are not messages: combining them needs the graph's reducer, so both are shown. */
function unrebuiltSection(channel: string, snapshot: unknown, writes: readonly unknown[]): string {
  const lines = [`snapshot: ${snapshot === undefined ? "none" : JSON.stringify(toPlain(snapshot))}`];
  if (writes.length > 0)
    lines.push("writes:", ...writes.map((value) => `  ${JSON.stringify(toPlain(value)) ?? "null"}`));
  return (
    `${channel} (DeltaChannel: its snapshot and ${plural(writes.length, "write")} since, which the graph's reducer ` +
    `combines):\n${indent(lines.join("\n"))}`
  );
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
}

import { type CommandContext, type CommandResult, requireArg, stringOption } from "../context.js";
import { InspectorNotFoundError } from "../errors.js";
import { formatTime } from "../output.js";
import { describeCheckpoint } from "../read/checkpoints.js";
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
  const values: Record<string, unknown> = {};
  const sections: string[] = [];
  for (const [channel, value] of Object.entries(tuple.checkpoint.channel_values).sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    if (channel.startsWith("branch:to:") || channel === "__start__") continue;
    if (isMessageList(value)) {
      const messages = value.map(plainMessage);
      values[channel] = messages;
      sections.push(`${channel} (${messages.length} messages):\n${indent(transcript(messages))}`);
    } else {
      values[channel] = toPlain(value);
      sections.push(`${channel}:\n${indent(JSON.stringify(values[channel], null, 2) ?? "null")}`);
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
    data: { threadId, checkpoint, values },
    text: `${header.join("\n")}\n\n${sections.join("\n\n") || "(no channel values)"}`,
  };
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
}

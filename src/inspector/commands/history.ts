import { type CommandContext, type CommandResult, intOption, requireArg, stringOption } from "../context.js";
import { InspectorNotFoundError } from "../errors.js";
import { formatBytes, formatTime, table } from "../output.js";
import { placeOnLanes } from "../read/branches.js";
import { readHistory } from "../read/checkpoints.js";

/** `history <thread> [--ns namespace] [--limit n]`: every checkpoint, oldest first, forks on their own lanes. */
export async function historyCommand(ctx: CommandContext): Promise<CommandResult> {
  const threadId = requireArg(ctx, 0, "thread");
  const limit = intOption(ctx, "limit", 1000);
  const ns = stringOption(ctx, "ns");
  const checkpoints = await readHistory(ctx.saver, threadId, { limit, ...(ns !== undefined ? { ns } : {}) });
  if (checkpoints.length === 0) {
    throw new InspectorNotFoundError(
      `thread ${JSON.stringify(threadId)} has no checkpoints under the prefix ${JSON.stringify(ctx.prefix)}: ` +
        "list the threads there with `langgraph-redis threads`",
    );
  }
  const placed = placeOnLanes(checkpoints);
  const lanes = Math.max(...placed.map((p) => p.lane)) + 1;
  const graph = (lane: number, forkStart: boolean) =>
    Array.from({ length: lanes }, (_, i) => (i === lane ? (forkStart ? "┐" : "●") : "│")).join(" ");
  const text = table(
    ["branch", "checkpoint", "step", "source", "node", "writes", "time", "bytes", "ns"],
    placed.map(({ item: c, lane, forkStart }) => [
      graph(lane, forkStart),
      c.checkpointId,
      c.step ?? "-",
      c.source,
      c.writers,
      c.channels,
      formatTime(c.timeMs),
      formatBytes(c.bytes),
      c.ns,
    ]),
  );
  const forks = placed.filter((p) => p.forkStart).length;
  return {
    data: {
      threadId,
      branches: lanes,
      checkpoints: placed.map(({ item, lane, forkStart }) => ({ ...item, branch: lane, forkStart })),
    },
    text: `${text}\n${checkpoints.length} checkpoints${forks > 0 ? `, ${forks} fork${forks === 1 ? "" : "s"}` : ""}`,
  };
}

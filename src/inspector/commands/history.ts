import { madeBeforeParent } from "../../saver/clock-order.js";
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
  // Written by a process whose clock was behind the parent's writer (before ClockSkewError refused them): sorted by
  // id, such a checkpoint comes before its parent, and the thread's latest checkpoint is not the newest written.
  const behind = new Map<string, number>();
  for (const { item } of placed) {
    const behindMs = madeBeforeParent(item.checkpointId, item.parentId);
    if (behindMs !== undefined) behind.set(item.checkpointId, behindMs);
  }
  const one = behind.size === 1;
  const earlyNote =
    behind.size === 0
      ? ""
      : `\n${behind.size} checkpoint${one ? "" : "s"} made before ${one ? "its" : "their"} parent by ` +
        `${[...behind].map(([id, ms]) => `${id} (${ms} ms)`).join(", ")}: ` +
        "written by a process whose clock was behind: such a checkpoint sorts before its parent, and a read of the " +
        "thread's latest checkpoint passes it over";
  return {
    data: {
      threadId,
      branches: lanes,
      checkpoints: placed.map(({ item, lane, forkStart }) => ({
        ...item,
        branch: lane,
        forkStart,
        ...(behind.has(item.checkpointId) ? { beforeParentMs: behind.get(item.checkpointId) } : {}),
      })),
    },
    text:
      `${text}\n${checkpoints.length} checkpoints${forks > 0 ? `, ${forks} fork${forks === 1 ? "" : "s"}` : ""}` +
      earlyNote,
  };
}

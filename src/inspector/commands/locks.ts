import type { CommandContext, CommandResult } from "../context.js";
import { formatDuration, table } from "../output.js";
import { readLocks } from "../read/leases.js";

/** `locks`: every lock held now, its holder, the time left until it expires unless refreshed, its fence counter. */
export async function locksCommand(ctx: CommandContext): Promise<CommandResult> {
  const { locks, complete } = await readLocks(ctx.client, ctx.patterns, { maxKeys: ctx.maxKeys });
  const text =
    locks.length === 0
      ? `no locks held under the prefix ${JSON.stringify(ctx.prefix)}`
      : table(
          ["lock", "holder", "time left", "fence counter"],
          locks.map((l) => [
            l.name,
            l.holder,
            l.remainingMs < 0 ? "no expiry" : formatDuration(l.remainingMs),
            l.fenceCounter,
          ]),
        );
  return { data: { prefix: ctx.prefix, complete, locks }, text: complete ? text : `${text}\n(stopped at --max-keys)` };
}

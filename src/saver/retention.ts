/**
 * The `retention` option: keep only the newest `keepLast` checkpoints of each namespace of a thread, with what they
 * need to be read (src/lua/include/retention.lua). saverPut trims as it writes: when a namespace holds more than
 * keepLast checkpoints and the surplus reaches a multiple of the slack, one put removes the surplus in the same
 * script. So a namespace holds at most keepLast + slack checkpoints beyond those its kept checkpoints need, and a put
 * does the trimming work once every `slack` puts.
 */
import { z } from "zod";

export const retentionOptionsSchema = z.strictObject({
  /** Checkpoints kept per namespace, newest first as list() returns them (at least 1). */
  keepLast: z.number().int().min(1).max(1_000_000),
});

export type RetentionOptions = z.input<typeof retentionOptionsSchema>;

/** How many checkpoints past keepLast a namespace may hold before a put trims it: a quarter of keepLast, 4 to 64. */
export function retentionSlack(keepLast: number): number {
  return Math.min(64, Math.max(4, Math.ceil(keepLast / 4)));
}

/** saverPut's ARGV for the option: "keepLast slack", or "" when retention is off. */
export function retentionSpec(options: RetentionOptions | undefined): string {
  return options === undefined ? "" : `${options.keepLast} ${retentionSlack(options.keepLast)}`;
}

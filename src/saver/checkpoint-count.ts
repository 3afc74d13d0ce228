/**
 * The number of checkpoints a thread holds, read from its checkpoint index (SaverThreadKeys.byNamespace) in one round
 * trip whichever form the index has: a LIST (threads this release creates) or a ZSET (threads of earlier releases,
 * and `compression: false`). For the inspector and the benchmarks; the saver's scripts go through the Lua include
 * checkpointIndex instead.
 */
import type { RedisClient } from "../client.js";
import { CorruptCheckpointError } from "../errors.js";

export async function checkpointCount(client: RedisClient, byNamespace: string): Promise<number> {
  // ZCARD and LLEN together: one of them answers (both 0 for an absent key), the other fails with WRONGTYPE.
  const [zcard, llen] = ((await client.pipeline().zcard(byNamespace).llen(byNamespace).exec()) ?? []) as [
    Error | null,
    unknown,
  ][];
  if (zcard?.[0] === null) return Number(zcard[1]);
  if (llen?.[0] === null) return Number(llen[1]);
  throw new CorruptCheckpointError(byNamespace, "the checkpoint index is neither a sorted set nor a list", {
    cause: zcard?.[0],
  });
}

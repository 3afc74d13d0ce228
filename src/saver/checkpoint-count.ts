/**
 * The number of checkpoints a thread holds, read from its checkpoint index (SaverThreadKeys.byNamespace) whichever
 * form the index has: a LIST (threads this release creates) or a ZSET (threads of earlier releases,
 * and `compression: false`). For the inspector and the benchmarks; the saver's scripts go through the Lua include
 * checkpointIndex instead.
 */
import type { RedisClient } from "../client.js";
import { CorruptCheckpointError } from "../errors.js";

export async function checkpointCount(client: RedisClient, byNamespace: string): Promise<number> {
  // TYPE first, then the one count that applies: sending ZCARD and LLEN together would answer in one round trip, but
  // one of them always fails with WRONGTYPE, which the server counts in its error statistics on every call.
  const kind = await client.type(byNamespace);
  if (kind === "none") return 0;
  if (kind === "list") return client.llen(byNamespace);
  if (kind === "zset") return client.zcard(byNamespace);
  throw new CorruptCheckpointError(byNamespace, `the checkpoint index is neither a sorted set nor a list (a ${kind})`);
}

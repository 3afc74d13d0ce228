/** Checks shared by the retention tests (test/saver/retention.test.ts and the prune kill test in test/faults). */

import type { RedisClient } from "../../src/client.js";
import type { RedisSaver } from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { blobBaseField } from "../../src/saver/blob-delta.js";
import { decodeRefs, FrameFormat } from "../../src/saver/codec.js";
import { recordRefs } from "../../src/saver/record.js";
import { indexMembers } from "./saver-helpers.js";

/** Fails when a stored blob is needed by no remaining checkpoint (directly or as a delta base), or a base is gone. */
export async function expectNoOrphanBlobs(saver: RedisSaver, threadId: string): Promise<number> {
  const keys = saverThreadKeys(saver.keyPrefix, threadId);
  const source = { key: keys.blobs, what: "a blob" };
  const records = (await saver.client.hgetallBuffer(keys.checkpoints)) as Record<string, Buffer>;
  const blobs = new Map(Object.entries((await saver.client.hgetallBuffer(keys.blobs)) as Record<string, Buffer>));
  const needed = new Set<string>();
  for (const [field, record] of Object.entries(records)) {
    // Writes ahead of their checkpoint's put (an empty record wrapped with its bundle) point at no blob.
    if (isWritesAhead(record)) continue;
    const ns = field.slice(0, field.indexOf("\0"));
    const refs = decodeRefs(recordRefs(record, { key: keys.checkpoints, what: "record" }));
    for (const [channel, version] of refs.channels) {
      let current: string | undefined = `${ns}\0${channel}\0${version}`;
      while (current !== undefined && !needed.has(current)) {
        needed.add(current);
        const blob = blobs.get(current);
        if (blob === undefined) break;
        current = blobBaseField(current, blob, source);
      }
    }
  }
  for (const field of blobs.keys()) expect(needed.has(field), `orphan blob ${JSON.stringify(field)}`).toBe(true);
  // Every pending write belongs to a remaining checkpoint.
  const writeFields = await saver.client.hkeys(keys.writes);
  for (const field of writeFields) {
    const [ns, id] = field.split("\0");
    expect(Object.hasOwn(records, `${ns}\0${id}`), `orphan write ${JSON.stringify(field)}`).toBe(true);
  }
  return blobs.size;
}

/** A checkpoints-hash value that holds writes ahead of their checkpoint's put: a wrapper of an empty record. */
function isWritesAhead(stored: Buffer): boolean {
  return stored[0] === FrameFormat.RECORD_WITH_WRITES && stored.length >= 5 && stored.readUInt32BE(1) === 0;
}

/**
 * The fields `ns\0id` under which a thread stores writes but no checkpoint the index names: writes ahead of a put
 * in the checkpoints hash, a bundle or overflow writes in the writes hash. Sorted.
 */
export async function writesWithoutCheckpoint(client: RedisClient, keyPrefix: string, threadId: string) {
  const keys = saverThreadKeys(keyPrefix, threadId);
  const indexed = new Set(await indexMembers(client, keys.byNamespace));
  const bases = new Set<string>();
  for (const field of [...(await client.hkeys(keys.checkpoints)), ...(await client.hkeys(keys.writes))]) {
    const [ns, id] = field.split("\0");
    const base = `${ns}\0${id}`;
    if (!indexed.has(base)) bases.add(base);
  }
  return [...bases].sort();
}

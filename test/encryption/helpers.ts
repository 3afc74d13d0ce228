/** Encryption test helpers: fixed test keys, and every byte stored under a prefix, read raw (no library code). */
import type { RedisClient } from "../../src/client.js";
import { keysWithPrefix } from "../saver/saver-helpers.js";

export const KEY_1 = Buffer.alloc(32, 1);
export const KEY_2 = Buffer.alloc(32, 2);

/** Every key under `prefix` with everything it holds (hash fields and values, set members, strings), as bytes. */
export async function rawContents(client: RedisClient, prefix: string): Promise<Map<string, Buffer[]>> {
  const out = new Map<string, Buffer[]>();
  for (const key of await keysWithPrefix(client, `${prefix}|`)) {
    const type = await client.type(key);
    let parts: Buffer[];
    if (type === "hash") parts = Object.values(await client.hgetallBuffer(key));
    else if (type === "zset") parts = await client.zrangeBuffer(key, "0", "-1");
    else if (type === "string") parts = [(await client.getBuffer(key)) ?? Buffer.alloc(0)];
    else parts = [];
    out.set(key, parts);
  }
  return out;
}

/** The keys whose stored bytes contain `needle` anywhere. */
export async function keysContaining(client: RedisClient, prefix: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const [key, parts] of await rawContents(client, prefix)) {
    if (parts.some((part) => part.includes(Buffer.from(needle, "utf8")))) found.push(key);
  }
  return found;
}

/** Key ids of the sealed records among `parts` ("LGE", version, id length, id). */
export function sealedKeyIds(parts: readonly Buffer[]): string[] {
  const ids: string[] = [];
  for (const part of parts) {
    for (let at = part.indexOf("LGE"); at >= 0; at = part.indexOf("LGE", at + 1)) {
      const length = part[at + 4] ?? 0;
      ids.push(part.subarray(at + 5, at + 5 + length).toString("ascii"));
    }
  }
  return ids;
}

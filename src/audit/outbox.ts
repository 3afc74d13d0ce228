/**
 * The writer side of the audit trail: which outbox stream an audited write appends to, and the event context the
 * write script stores with its event. The scripts do the appending themselves (include auditOutbox), so an event
 * exists if and only if its write happened; this module only picks the stream, registers it for the sink and
 * builds the extra key and argument a script call gets.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { isCluster, type RedisClient } from "../client.js";
import { auditRegistryKey, auditStreamKey } from "../keys.js";
import { keySlot, slotTag } from "./slots.js";

/** The `audit` option of RedisSaver, RedisStore, guarded() and the recovery functions. */
export const auditOptionSchema = z.union([
  z.boolean(),
  z
    .object({
      /** Recorded as the acting agent of every event this component writes (a store write's `writer` wins). */
      agentId: z.string().min(1).max(256).optional(),
      /** Store puts: keep the JSON value itself in the event, not only its SHA-256. Default false. */
      includeValues: z.boolean().default(false),
    })
    .strict(),
]);

export type AuditOption = z.input<typeof auditOptionSchema>;
export type ParsedAuditOption = z.output<typeof auditOptionSchema>;

/** What an audited component holds: where to append and what to say about itself. */
export interface AuditOutbox {
  readonly agentId: string | undefined;
  readonly includeValues: boolean;
  /**
   * The outbox stream in the slot of `writeKey` (any key the write script touches). The first call for a stream
   * adds it to the registry the sink reads, before any event can be appended to it.
   */
  stream(writeKey: string): Promise<string>;
}

const registered = new WeakMap<RedisClient, Map<string, Promise<void>>>();

export function createAuditOutbox(
  client: RedisClient,
  keyPrefix: string,
  option: ParsedAuditOption | undefined,
): AuditOutbox | undefined {
  if (option === undefined || option === false) return undefined;
  const settings = option === true ? { agentId: undefined, includeValues: false } : option;
  const cluster = isCluster(client);
  const registry = auditRegistryKey(keyPrefix);
  let streams = registered.get(client);
  if (!streams) {
    streams = new Map();
    registered.set(client, streams);
  }
  const known = streams;
  return {
    agentId: settings.agentId,
    includeValues: settings.includeValues,
    async stream(writeKey) {
      const stream = auditStreamKey(keyPrefix, cluster ? slotTag(keySlot(writeKey)) : "");
      let done = known.get(stream);
      if (!done) {
        done = client.sadd(registry, stream).then(() => undefined);
        known.set(stream, done);
        // A failed registration is tried again by the next write (which fails until it succeeds).
        done.catch(() => known.delete(stream));
      }
      await done;
      return stream;
    },
  };
}

/**
 * The arguments of an audited script call: the event context (JSON, undefined fields left out) after the last one.
 * The call passes the stream as its `outbox` key (declared "outbox?" in src/lua/catalogue.ts); the include
 * auditOutbox takes both off before the script reads KEYS and ARGV.
 */
export function withAuditContext<A extends readonly unknown[]>(args: A, context: Record<string, unknown>): A {
  const defined = Object.fromEntries(Object.entries(context).filter(([, value]) => value !== undefined));
  return [...args, JSON.stringify(defined)] as unknown as A;
}

/** SHA-256 (hex) of a serialised value, recorded instead of the value unless includeValues is set. */
export function valueHash(json: string): string {
  return createHash("sha256").update(json).digest("hex");
}

/**
 * The store's audit hooks around a batch's writes (the `audit` option): the outbox stream of each write's slot is
 * picked and registered before the writes are sent, and on a cluster a write refused by the client (its fencing
 * token is older than the newest issued) is recorded as store.fenced, as the script records it on a standalone server.
 */
import { recordAuditEvent } from "../audit/record.js";
import { storeNamespaceKeys } from "../keys.js";
import { redisCall } from "../redis-call.js";
import type { StoreContext } from "./context.js";
import { type PreparedWrite, type PutOutcome, storeAuditContext } from "./crud/put.js";

export async function attachAuditStreams(ctx: StoreContext, writes: readonly PreparedWrite[]): Promise<void> {
  const audit = ctx.audit;
  if (!audit || writes.length === 0) return;
  await redisCall(ctx, { operation: "RedisStore: register audit outbox streams", write: true }, () =>
    Promise.all(
      writes.map(async (write) => {
        write.auditStream = await audit.stream(storeNamespaceKeys(ctx.keyPrefix, write.namespace).items);
      }),
    ),
  );
}

export async function recordFencedOnCluster(
  ctx: StoreContext,
  writes: readonly PreparedWrite[],
  outcomes: readonly (PutOutcome | undefined)[],
): Promise<void> {
  const audit = ctx.audit;
  if (!audit || !ctx.cluster) return;
  await redisCall(ctx, { operation: "RedisStore: record a fenced write", write: true }, (client) =>
    Promise.all(
      writes.map(async (write, i) => {
        const outcome = outcomes[i];
        if (outcome?.kind !== "fenced") return;
        const items = storeNamespaceKeys(ctx.keyPrefix, write.namespace).items;
        await recordAuditEvent(client, audit, items, "store.fenced", {
          ...storeAuditContext(ctx, write),
          newest: outcome.newest,
        });
      }),
    ),
  );
}

/**
 * RedisStore.batch() with the `offline` option (LangGraph's AsyncBatchedStore sends everything through it): the
 * batch goes to Redis while it answers; otherwise, or when an item in it has journaled writes not yet replayed,
 * each operation is served locally: a get from what this process last wrote or read, a put or delete to the
 * journal, and a search or listNamespaces fails with OfflineReadError (they need Redis).
 */
import type { Item, Operation } from "@langchain/langgraph-checkpoint";
import { OfflineReadError } from "../../errors.js";
import { executeBatch } from "../../store/batch.js";
import type { StoreContext } from "../../store/context.js";
import { writeItem } from "../../store/crud/write-item.js";
import { frozenValue, type StoreOffline } from "./offline-store.js";

const isItemOp = (op: Operation): op is Operation & { namespace: string[]; key: string } =>
  "namespace" in op && "key" in op && !("namespacePrefix" in op);

export async function offlineBatch(
  ctx: StoreContext,
  offline: StoreOffline,
  ops: readonly Operation[],
): Promise<unknown[]> {
  // Put values as JSON text now, before anything is awaited: the caller may change its objects once it has called.
  const frozen = ops.map((op) => (isItemOp(op) && "value" in op ? frozenValue(op.value ?? null) : undefined));
  await offline.ready();
  const local = ops.some((op) => isItemOp(op) && offline.local(op.namespace, op.key));
  if (!local) {
    try {
      const { results, reports } = await offline.session.bounded(async () => {
        await ctx.ready();
        return executeBatch(ctx, ops);
      }, "RedisStore.batch");
      ops.forEach((op, i) => {
        if (!isItemOp(op)) return;
        if ("value" in op) offline.rememberRead(op.namespace, op.key, frozen[i], reports[i]?.version);
        else
          offline.rememberRead(
            op.namespace,
            op.key,
            frozenValue((results[i] as Item | null)?.value ?? null),
            undefined,
          );
      });
      return results;
    } catch (error) {
      if (!offline.session.isOutage(error)) throw error;
      offline.session.goOffline(error);
    }
  }
  const results: unknown[] = [];
  for (const [i, op] of ops.entries()) {
    if (isItemOp(op) && "value" in op) {
      const value = op.value ?? null;
      const index = (op as { index?: false | string[] }).index;
      const options = index === undefined ? {} : { index };
      results.push(
        await offline
          .write(op.namespace, op.key, value, frozen[i], options, () =>
            writeItem(ctx, op.namespace, op.key, value, undefined, options),
          )
          .then(() => undefined),
      );
    } else if (isItemOp(op)) {
      results.push(offline.localItem(op.namespace, op.key));
    } else {
      throw new OfflineReadError(
        "RedisStore: Redis is unreachable; search and listNamespaces need it (only get, put and delete work offline)",
      );
    }
  }
  return results;
}

import type { SearchItem, SearchOperation } from "@langchain/langgraph-checkpoint";
import { storeNamespaceKeys } from "../keys.js";
import { recordToItem, type StoredRecord } from "./codec.js";
import type { StoreContext } from "./context.js";
import { planFilter } from "./field-index.js";
import { matchesFilter } from "./filter.js";
import type { NamespaceRead, ReadSpec } from "./read-namespace.js";
import { decodeVectors, rankByQuery } from "./vectors.js";

/** A search hit with the stored record behind it (the TTL refresh needs it). */
export interface SearchHit {
  readonly item: SearchItem;
  readonly record: StoredRecord;
}

interface Candidate {
  readonly namespace: string[];
  readonly key: string;
  readonly record: StoredRecord;
  readonly vectorBytes: Buffer | null;
  readonly vectorsKey: string;
}

function hit(candidate: Candidate, score: number | undefined): SearchHit {
  return {
    item: { ...recordToItem(candidate.record, candidate.namespace, candidate.key), score },
    record: candidate.record,
  };
}

/**
 * How one search reads its namespaces. `reads(i)` is the read of the i-th namespace in registration order.
 * - A filter with conditions the filter indexes serve selects items in the script; the rest of the filter is
 *   applied here. `empty`: a served condition matches nothing, so nothing is read.
 * - When the script's selection is the answer (no filter, or only exactly served conditions) and there is no
 *   query, the script also pages: the first namespace skips `offset` and returns at most `limit` items, every
 *   later one at most `offset + limit` (it does not know how many items the namespaces before it hold).
 */
export interface SearchReads {
  readonly empty: boolean;
  /** The script pages: the reads' `selected` counts place their records in the result. */
  readonly paged: boolean;
  readonly spec: (namespaceIndex: number) => ReadSpec;
}

export function planSearch(ctx: StoreContext, op: SearchOperation, hasQuery: boolean): SearchReads {
  const offset = op.offset ?? 0;
  const limit = op.limit ?? 10;
  const noFilter = op.filter === undefined || Object.keys(op.filter).length === 0;
  const filterPlan = noFilter ? undefined : planFilter(ctx.fields, op.filter);
  const conditions = filterPlan?.conditions ?? "";
  const mode = hasQuery ? "vectors" : "items";
  const paged = !hasQuery && (noFilter || filterPlan?.exact === true);
  return {
    empty: filterPlan?.empty === true,
    paged,
    spec: (i) =>
      paged
        ? { mode, conditions, skip: i === 0 ? offset : 0, take: i === 0 ? limit : offset + limit }
        : { mode, conditions, skip: 0, take: "" },
  };
}

/**
 * Turns the namespaces read for one search (already in registration order) into its page: items in insertion
 * order, filtered, then either ranked by the query vector or paged by offset and limit.
 */
export function searchPage(
  ctx: StoreContext,
  reads: readonly NamespaceRead[],
  op: SearchOperation,
  queryVector: readonly number[] | undefined,
  how: SearchReads,
): SearchHit[] {
  if (how.empty) return [];
  const offset = op.offset ?? 0;
  const limit = op.limit ?? 10;
  const candidate = (read: NamespaceRead, vectorsKey: string, r: NamespaceRead["records"][number]): Candidate => ({
    namespace: read.namespace.namespace,
    key: r.key,
    record: r.record,
    vectorBytes: r.vectors,
    vectorsKey,
  });
  if (how.paged) {
    // Each read returns a window of its selected items; `selected` says how many it holds in all.
    const page: SearchHit[] = [];
    let position = 0;
    reads.forEach((read, i) => {
      const vectorsKey = storeNamespaceKeys(ctx.keyPrefix, read.namespace.namespace).vectors;
      const start = position + how.spec(i).skip;
      read.records.forEach((r, j) => {
        const at = start + j;
        if (at >= offset && at < offset + limit) page.push(hit(candidate(read, vectorsKey, r), undefined));
      });
      position += read.selected;
    });
    return page;
  }
  const candidates: Candidate[] = [];
  for (const read of reads) {
    const vectorsKey = storeNamespaceKeys(ctx.keyPrefix, read.namespace.namespace).vectors;
    for (const r of read.records) {
      if (matchesFilter(r.record.value, op.filter)) candidates.push(candidate(read, vectorsKey, r));
    }
  }
  const dims = ctx.options.index?.dims;
  if (queryVector && dims) {
    const withVectors = candidates.map((c) => ({
      c,
      vectors: c.vectorBytes ? decodeVectors(c.vectorBytes, dims, c.vectorsKey, c.key) : [],
    }));
    return rankByQuery(withVectors, queryVector, offset, limit).map(({ candidate, score }) => hit(candidate.c, score));
  }
  return candidates.slice(offset, offset + limit).map((c) => hit(c, undefined));
}

import type { SearchItem, SearchOperation } from "@langchain/langgraph-checkpoint";
import { storeNamespaceKeys } from "../keys.js";
import { recordToItem, type StoredRecord } from "./codec.js";
import type { StoreContext } from "./context.js";
import { matchesFilter } from "./filter.js";
import type { NamespaceRead } from "./read-namespace.js";
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
 * Turns the namespaces read for one search (already in registration order) into its page: items in insertion
 * order, filtered, then either ranked by the query vector or paged by offset and limit.
 */
export function searchPage(
  ctx: StoreContext,
  reads: readonly NamespaceRead[],
  op: SearchOperation,
  queryVector: readonly number[] | undefined,
): SearchHit[] {
  const offset = op.offset ?? 0;
  const limit = op.limit ?? 10;
  const candidates: Candidate[] = [];
  for (const read of reads) {
    const vectorsKey = storeNamespaceKeys(ctx.keyPrefix, read.namespace.namespace).vectors;
    for (const { key, record, vectors } of read.records) {
      if (!matchesFilter(record.value, op.filter)) continue;
      candidates.push({ namespace: read.namespace.namespace, key, record, vectorBytes: vectors, vectorsKey });
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

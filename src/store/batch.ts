import type {
  GetOperation,
  ListNamespacesOperation,
  Operation,
  PutOperation,
  SearchOperation,
} from "@langchain/langgraph-checkpoint";
import { InvalidInputError } from "../errors.js";
import { storeNamespaceKeys, storeNamespaceMember } from "../keys.js";
import { type RoutedCall, runRouted } from "../routing.js";
import { encodeValue, recordToItem, type StoredRecord } from "./codec.js";
import type { StoreContext } from "./context.js";
import { getCall } from "./crud/get.js";
import type { PreparedWrite, PutOutcome } from "./crud/put.js";
import { putCall } from "./crud/put.js";
import { checkConditions, literalPrefix, matchesAll, pageNamespaces } from "./list-namespaces.js";
import { checkItemKey, checkNamespace } from "./namespace.js";
import type { StoreWriteOptions } from "./options.js";
import { type NamespaceRead, type ReadMode, readNamespaceCall } from "./read-namespace.js";
import { type LexRange, type RegisteredNamespace, rangeForPrefix, registryReadCall } from "./registry.js";
import { type SearchHit, searchPage } from "./search.js";
import { refreshCalls } from "./ttl.js";
import { sealValue } from "./value-cipher.js";
import { embedQuery, embedTexts, encodeVectors, textsToEmbed } from "./vectors.js";
import { resolveWriter } from "./writer.js";
import { fenceCounterCalls, settleWrites, writeError } from "./writes.js";

/** Extra per-write settings of the direct write methods (batch() writes use the store's defaults). */
export interface WriteExtras extends Omit<StoreWriteOptions, "index"> {
  /** undefined: unconditional; null or 0: must not exist; n: must be at version n. */
  readonly expectedVersion?: number | null;
}

/** What a write reports back to the direct write methods. */
export interface WriteReport {
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

type Planned =
  | { kind: "get"; op: GetOperation }
  | { kind: "search"; op: SearchOperation; queryVector?: number[] }
  | { kind: "list"; op: ListNamespacesOperation }
  | { kind: "put" };

interface Plan {
  readonly planned: Planned[];
  /** Writes after de-duplication (the last write of an item wins, at the place of its first), in batch order. */
  readonly writes: PreparedWrite[];
}

function classify(op: Operation): Planned["kind"] {
  if ("namespacePrefix" in op) return "search";
  if ("value" in op) return "put";
  if ("namespace" in op && "key" in op) return "get";
  if ("matchConditions" in op || "limit" in op || "maxDepth" in op) return "list";
  throw new InvalidInputError("Unknown store operation: expected a get, search, put or listNamespaces operation");
}

/** Checks every operation and serialises every value before anything is sent, so a bad op writes nothing. */
function plan(ctx: StoreContext, ops: readonly Operation[], extras: readonly (WriteExtras | undefined)[]): Plan {
  const planned: Planned[] = [];
  const writesByItem = new Map<string, PreparedWrite>();
  ops.forEach((op, i) => {
    const kind = classify(op);
    if (kind === "get" || kind === "put") {
      const { namespace, key } = op as GetOperation;
      checkNamespace(namespace, { allowReservedRoot: true });
      checkItemKey(key);
    }
    if (kind === "get") planned.push({ kind, op: op as GetOperation });
    else if (kind === "search") {
      const search = op as SearchOperation;
      if (search.namespacePrefix.length > 0) checkNamespace(search.namespacePrefix, { allowReservedRoot: true });
      planned.push({ kind, op: search });
    } else if (kind === "list") {
      checkConditions((op as ListNamespacesOperation).matchConditions);
      planned.push({ kind, op: op as ListNamespacesOperation });
    } else {
      planned.push({ kind });
      const write = prepareWrite(ctx, op as PutOperation, extras[i]);
      const id = JSON.stringify([write.namespace, write.key]);
      writesByItem.set(id, write); // an existing entry keeps its place: the last write wins where the first stood
    }
  });
  return { planned, writes: [...writesByItem.values()] };
}

function prepareWrite(ctx: StoreContext, op: PutOperation, extras: WriteExtras | undefined): PreparedWrite {
  const what = `Item ${JSON.stringify([...op.namespace, op.key])}`;
  const json =
    op.value === null
      ? ""
      : sealValue(ctx, encodeValue(op.value, what, ctx.options.maxValueBytes), op.namespace, op.key);
  const index = ctx.options.index;
  const embedFields = op.value === null || !index || op.index === false ? [] : (op.index ?? index.fields);
  const ttlMs = extras?.ttlMs !== undefined ? extras.ttlMs : (ctx.options.ttl.defaultTtlMs ?? null);
  return {
    namespace: [...op.namespace],
    key: op.key,
    member: storeNamespaceMember(op.namespace),
    op: op.value === null ? "delete" : "put",
    json,
    vectors: null,
    embedFields,
    ttlMs,
    writer: resolveWriter(extras?.writer, ctx.options.agentId),
    expectedVersion: extras?.expectedVersion,
    fence: extras?.fence,
  };
}

/** Embeds query texts and indexed fields (each distinct text once) before anything is written. */
async function embed(ctx: StoreContext, p: Plan): Promise<void> {
  const index = ctx.options.index;
  if (!index) return;
  const textsByWrite = p.writes.map((w) =>
    w.op === "put" && w.embedFields.length > 0 ? textsToEmbed(JSON.parse(w.json), w.embedFields) : [],
  );
  const queries = [...new Set(p.planned.flatMap((x) => (x.kind === "search" && x.op.query ? [x.op.query] : [])))];
  const [vectors, queryVectors] = await Promise.all([
    embedTexts(index.embeddings, textsByWrite.flat(), index.dims),
    Promise.all(queries.map((q) => embedQuery(index.embeddings, q, index.dims))),
  ]);
  p.writes.forEach((w, i) => {
    w.vectors = encodeVectors((textsByWrite[i] ?? []).map((text) => vectors.get(text) as number[]));
  });
  for (const x of p.planned) {
    if (x.kind === "search" && x.op.query) x.queryVector = queryVectors[queries.indexOf(x.op.query)];
  }
}

/**
 * Runs a batch with InMemoryStore's semantics: every read sees the store as it was before the batch's writes, and
 * writes apply in batch order after the reads (the last write of an item wins). Cost: one pipelined round trip per
 * server for gets and writes; searches and listNamespaces read the registry first (one more round trip).
 */
export async function executeBatch(
  ctx: StoreContext,
  ops: readonly Operation[],
  extras: readonly (WriteExtras | undefined)[] = [],
): Promise<{ results: unknown[]; reports: (WriteReport | undefined)[] }> {
  const p = plan(ctx, ops, extras);
  if (p.writes.length > 0) await ctx.durability.ready();
  await embed(ctx, p);
  const refresh = ctx.options.ttl.refreshOnRead;

  // Round 1 (only when needed): the registry ranges searches and listings read, the gets, cluster fence counters.
  const ranges = new Map<string, LexRange>();
  const rangeOf = (x: Planned): LexRange | undefined =>
    x.kind === "search"
      ? rangeForPrefix(x.op.namespacePrefix)
      : x.kind === "list"
        ? rangeForPrefix(literalPrefix(x.op.matchConditions))
        : undefined;
  for (const x of p.planned) {
    const range = rangeOf(x);
    if (range) ranges.set(range.join("\u0002"), range);
  }
  const fenceCalls = ctx.cluster ? fenceCounterCalls(ctx, p.writes) : [];
  const gets = p.planned.flatMap((x) => (x.kind === "get" ? [x.op] : []));
  const getCalls = gets.map((op) => getCall(ctx, op.namespace, op.key, refresh));
  const twoRounds = ranges.size > 0 || fenceCalls.length > 0;
  const round1: RoutedCall[] = [...[...ranges.values()].map((range) => registryReadCall(ctx, range)), ...fenceCalls];
  if (twoRounds) round1.push(...getCalls);
  const replies1 = await runRouted(ctx, round1);
  const registry = new Map<string, RegisteredNamespace[]>();
  [...ranges.keys()].forEach((id, i) => {
    registry.set(
      id,
      (replies1[i] as RegisteredNamespace[]).sort((a, b) => a.seq - b.seq),
    );
  });

  const outcomes: (PutOutcome | undefined)[] = new Array(p.writes.length);
  const fenced = p.writes.filter((w) => w.fence);
  if (ctx.cluster) {
    fenced.forEach((write, i) => {
      const newest = Number(replies1[ranges.size + i] ?? 0);
      if ((write.fence?.token ?? 0) < newest) outcomes[p.writes.indexOf(write)] = { kind: "fenced", newest };
    });
  }

  // Round 2: namespace reads (before the writes on every server), the gets if not sent yet, then the writes.
  const modes = new Map<string, { ns: RegisteredNamespace; mode: ReadMode }>();
  const want = (ns: RegisteredNamespace, mode: ReadMode) => {
    const rank = { count: 0, items: 1, vectors: 2 };
    const current = modes.get(ns.member);
    if (!current || rank[mode] > rank[current.mode]) modes.set(ns.member, { ns, mode });
  };
  for (const x of p.planned) {
    const range = rangeOf(x);
    if (!range) continue;
    for (const ns of registry.get(range.join("\u0002")) ?? []) {
      if (x.kind === "search") want(ns, x.queryVector ? "vectors" : "items");
      else if (x.kind === "list" && matchesAll(x.op.matchConditions, ns.namespace)) want(ns, "count");
    }
  }
  const reads = [...modes.values()];
  const writeIndexes = [...p.writes.keys()].filter((i) => outcomes[i] === undefined);
  const round2: RoutedCall[] = [
    ...reads.map(({ ns, mode }) => readNamespaceCall(ctx, ns, mode)),
    ...(twoRounds ? [] : getCalls),
    ...writeIndexes.map((i) => putCall(ctx, p.writes[i] as PreparedWrite)),
  ];
  const replies2 = await runRouted(ctx, round2);
  const readResults = new Map<string, NamespaceRead>();
  reads.forEach(({ ns }, i) => {
    readResults.set(ns.member, replies2[i] as NamespaceRead);
  });
  const getReplies = twoRounds ? replies1.slice(round1.length - getCalls.length) : replies2.slice(reads.length);
  writeIndexes.forEach((i, j) => {
    outcomes[i] = replies2[reads.length + (twoRounds ? 0 : getCalls.length) + j] as PutOutcome;
  });

  // Cluster: registrations the writes wait for, and namespaces found empty.
  if (ctx.cluster) {
    const retired = new Map<string, number>();
    for (const read of readResults.values()) {
      if (read.live === 0) retired.set(read.namespace.member, read.namespace.seq);
    }
    await settleWrites(ctx, p.writes, outcomes as PutOutcome[], retired);
  }

  // Results, in operation order.
  const results: unknown[] = [];
  const hits: SearchHit[] = [];
  let getIndex = 0;
  for (const x of p.planned) {
    if (x.kind === "put") results.push(null);
    else if (x.kind === "get") {
      const record = getReplies[getIndex++] as StoredRecord | null;
      results.push(record ? recordToItem(record, x.op.namespace, x.op.key) : null);
    } else if (x.kind === "search") {
      const range = rangeOf(x) as LexRange;
      const nsReads = (registry.get(range.join("\u0002")) ?? []).flatMap((ns) => {
        const read = readResults.get(ns.member);
        return read ? [read] : [];
      });
      const page = searchPage(ctx, nsReads, x.op, x.queryVector);
      hits.push(...page);
      results.push(page.map((h) => h.item));
    } else {
      const range = rangeOf(x) as LexRange;
      const live = (registry.get(range.join("\u0002")) ?? [])
        .filter((ns) => matchesAll(x.op.matchConditions, ns.namespace) && (readResults.get(ns.member)?.live ?? 0) > 0)
        .map((ns) => ns.namespace);
      results.push(pageNamespaces(live, x.op));
    }
  }

  if (refresh) await runRouted(ctx, refreshCalls(ctx, hits));

  const failure = p.writes.map((w, i) => writeError(ctx, w, outcomes[i] as PutOutcome)).find((e) => e);
  if (failure) throw failure;
  const written = p.writes.filter((_, i) => outcomes[i]?.kind === "written");
  await ctx.durability.afterWrites(
    written.map((w) => storeNamespaceKeys(ctx.keyPrefix, w.namespace).items),
    `RedisStore: a batch of ${written.length} write(s)`,
  );
  const reports = ops.map((op, i) => {
    if (!("value" in op) || extras[i] === undefined) return undefined;
    const at = p.writes.findIndex((w) => w.key === op.key && sameNamespace(w.namespace, op.namespace));
    const outcome = outcomes[at];
    return outcome?.kind === "written"
      ? { version: outcome.version, createdAt: outcome.createdAt, updatedAt: outcome.updatedAt }
      : undefined;
  });
  return { results, reports };
}

function sameNamespace(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((label, i) => label === b[i]);
}

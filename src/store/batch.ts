/**
 * A store batch in four steps: plan (batch-plan.ts), the registry round, the read/write round, and assembling the
 * results in operation order. Each round is built with a Round, which hands every call its own reply.
 */
import type { Operation } from "@langchain/langgraph-checkpoint";
import { storeNamespaceKeys, storeNamespaceMember } from "../keys.js";
import { type Pending, Round, runRouted } from "../routing.js";
import { attachAuditStreams, recordFencedOnCluster } from "./audit-writes.js";
import { embed, type Plan, type Planned, plan, type WriteExtras } from "./batch-plan.js";
import { recordToItem, type StoredRecord } from "./codec.js";
import type { StoreContext } from "./context.js";
import { getCall } from "./crud/get.js";
import { type PreparedWrite, type PutOutcome, putCall } from "./crud/put.js";
import { literalPrefix, matchesAll, pageNamespaces } from "./list-namespaces.js";
import { COUNT_READ, type NamespaceRead, type ReadSpec, readNamespaceCall } from "./read-namespace.js";
import {
  type LexRange,
  mergeRegistry,
  type RegisteredNamespace,
  rangeForPrefix,
  registryReadCalls,
} from "./registry.js";
import { planSearch, type SearchHit, type SearchReads, searchPage } from "./search.js";
import { refreshCalls } from "./ttl.js";
import { fenceCounterCall, fenceCounterOutcome, settleWrites, writeError } from "./writes.js";

export type { WriteExtras } from "./batch-plan.js";

/** What a write reports back to the direct write methods. */
export interface WriteReport {
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** The registry range a search or listNamespaces reads, with its id (one read per distinct range). */
function rangeOf(x: Planned): { id: string; range: LexRange } | undefined {
  const range =
    x.kind === "search"
      ? rangeForPrefix(x.op.namespacePrefix)
      : x.kind === "list"
        ? rangeForPrefix(literalPrefix(x.op.matchConditions))
        : undefined;
  return range && { id: range.join("\u0002"), range };
}

/** What the first round holds: registry ranges, cluster fence counters, and the gets when there are two rounds. */
interface RegistryRound {
  /** How each search reads its namespaces, by its position in the plan. */
  readonly searches: Map<number, SearchReads>;
  /** Per registry range read: the reply of each bucket. */
  readonly registry: Map<string, Pending<RegisteredNamespace[]>[]>;
  /** Early reads of a search's prefix as a namespace, by the search's position (see `earlyRead`). */
  readonly early: Map<number, Pending<NamespaceRead>>;
  readonly fenceCounters: { readonly write: number; readonly newest: Pending<string | null> }[];
  readonly gets: Map<number, Pending<StoredRecord | null>>;
}

/**
 * A search whose prefix is usually a namespace of its own (`search(["orders"], { filter })`) reads that namespace
 * in round 1 beside the registry, when the read is bounded (a page, or what a filter index selects): if the registry
 * then lists exactly that namespace under the prefix, the search needs no second round. Otherwise the early read is
 * dropped and the namespaces are read in round 2 as usual; so is one that found the namespace empty (on a cluster
 * only round 2's read leads to unregistering it).
 */
function earlyRead(x: Planned, how: SearchReads | undefined): ReadSpec | undefined {
  if (x.kind !== "search" || x.op.namespacePrefix.length === 0 || !how || how.empty) return undefined;
  const spec = how.spec(0);
  return how.paged || spec.conditions !== "" ? spec : undefined;
}

/** The early read of search `i`, when the registry confirms its prefix is the only namespace under it. */
function usableEarly(first: RegistryRound, x: Planned, i: number): NamespaceRead | undefined {
  const early = first.early.get(i)?.value;
  if (!early || early.live === 0) return undefined;
  const namespaces = namespacesOf(first, x);
  return namespaces.length === 1 && namespaces[0]?.member === early.namespace.member ? early : undefined;
}

/**
 * Round 1, only when needed: the registry ranges searches and listings read, and on a cluster the fence counters of
 * fenced writes (they live in the lock's slot). The gets and the searches' early reads ride along.
 */
async function registryRound(ctx: StoreContext, p: Plan): Promise<RegistryRound> {
  const searches = searchReads(ctx, p);
  const round = new Round();
  const registry = new Map<string, Pending<RegisteredNamespace[]>[]>();
  for (const x of p.planned) {
    const r = rangeOf(x);
    if (r && !registry.has(r.id)) {
      registry.set(
        r.id,
        registryReadCalls(ctx, r.range).map((call) => round.add(call)),
      );
    }
  }
  const fenceCounters = ctx.cluster
    ? p.writes.flatMap((write, i) =>
        write.fence ? [{ write: i, newest: round.add(fenceCounterCall(ctx, write)) }] : [],
      )
    : [];
  const gets = new Map<number, Pending<StoredRecord | null>>();
  const early = new Map<number, Pending<NamespaceRead>>();
  if (round.size > 0) {
    addGets(ctx, p, round, gets);
    p.planned.forEach((x, i) => {
      const spec = earlyRead(x, searches.get(i));
      if (!spec || x.kind !== "search") return;
      const member = storeNamespaceMember(x.op.namespacePrefix);
      const ns = { namespace: [...x.op.namespacePrefix], member, seq: 0 };
      early.set(i, round.add(readNamespaceCall(ctx, ns, spec)));
    });
    await round.run(ctx);
  }
  return { searches, registry, early, fenceCounters, gets };
}

function addGets(ctx: StoreContext, p: Plan, round: Round, gets: Map<number, Pending<StoredRecord | null>>): void {
  const refresh = ctx.options.ttl.refreshOnRead;
  p.planned.forEach((x, i) => {
    if (x.kind === "get") gets.set(i, round.add(getCall(ctx, x.op.namespace, x.op.key, refresh)));
  });
}

/** The registered namespaces of a range, in registration order. */
function namespacesOf(first: RegistryRound, x: Planned): RegisteredNamespace[] {
  const r = rangeOf(x);
  const parts = r ? (first.registry.get(r.id) ?? []).map((part) => part.value) : [];
  return mergeRegistry(parts).sort((a, b) => a.seq - b.seq);
}

/** What the second round leaves: namespace reads by read id, and every write's outcome, in write order. */
interface ReadWriteRound {
  readonly reads: Map<string, NamespaceRead>;
  /** Any read of each namespace, by member (every read reports the namespace's live count). */
  readonly byMember: Map<string, NamespaceRead>;
  readonly outcomes: PutOutcome[];
}

/** One id per distinct read of a namespace, so searches asking the same of a namespace share one read. */
function readId(member: string, spec: ReadSpec): string {
  return JSON.stringify([member, spec.mode, spec.conditions, spec.skip, spec.take]);
}

/** How each search of the plan reads its namespaces (by its position in the plan). */
function searchReads(ctx: StoreContext, p: Plan): Map<number, SearchReads> {
  const out = new Map<number, SearchReads>();
  p.planned.forEach((x, i) => {
    if (x.kind === "search") out.set(i, planSearch(ctx, x.op, x.queryVector !== undefined));
  });
  return out;
}

/**
 * Round 2: the namespace reads (queued before the writes, so on every server they see the store as it was), the
 * gets if round 1 was not sent, then the writes not already refused by a newer fence.
 */
async function readWriteRound(ctx: StoreContext, p: Plan, first: RegistryRound): Promise<ReadWriteRound> {
  const outcomes: (PutOutcome | undefined)[] = new Array(p.writes.length);
  for (const { write, newest } of first.fenceCounters) {
    const outcome = fenceCounterOutcome(p.writes[write] as PreparedWrite, newest.value);
    if (outcome) outcomes[write] = outcome;
  }
  await recordFencedOnCluster(ctx, p.writes, outcomes);

  const wanted = new Map<string, { ns: RegisteredNamespace; spec: ReadSpec }>();
  const members = new Set<string>();
  const want = (ns: RegisteredNamespace, spec: ReadSpec) => {
    wanted.set(readId(ns.member, spec), { ns, spec });
    members.add(ns.member);
  };
  p.planned.forEach((x, i) => {
    const how = first.searches.get(i);
    if (!how || how.empty || usableEarly(first, x, i)) return;
    namespacesOf(first, x).forEach((ns, n) => {
      want(ns, how.spec(n));
    });
  });
  // A listing needs only the live count, which every read reports.
  for (const x of p.planned) {
    if (x.kind !== "list") continue;
    for (const ns of namespacesOf(first, x)) {
      if (!members.has(ns.member) && matchesAll(x.op.matchConditions, ns.namespace)) want(ns, COUNT_READ);
    }
  }

  const round = new Round();
  const reads = [...wanted].map(([id, { ns, spec }]) => ({ id, pending: round.add(readNamespaceCall(ctx, ns, spec)) }));
  if (first.gets.size === 0) addGets(ctx, p, round, first.gets);
  await attachAuditStreams(
    ctx,
    p.writes.filter((_, i) => outcomes[i] === undefined),
  );
  const writes = p.writes.map((write, i) => (outcomes[i] === undefined ? round.add(putCall(ctx, write)) : undefined));
  await round.run(ctx);

  const byId = new Map(reads.map(({ id, pending }) => [id, pending.value]));
  const byMember = new Map(reads.map(({ pending }) => [pending.value.namespace.member, pending.value]));
  return { reads: byId, byMember, outcomes: p.writes.map((_, i) => outcomes[i] ?? (writes[i]?.value as PutOutcome)) };
}

/** The batch's results, in operation order, and the items searches returned (for the TTL refresh). */
function assemble(
  ctx: StoreContext,
  p: Plan,
  first: RegistryRound,
  second: ReadWriteRound,
): { results: unknown[]; hits: SearchHit[] } {
  const results: unknown[] = [];
  const hits: SearchHit[] = [];
  p.planned.forEach((x, i) => {
    if (x.kind === "put") results.push(null);
    else if (x.kind === "get") {
      const record = first.gets.get(i)?.value ?? null;
      results.push(record ? recordToItem(record, x.op.namespace, x.op.key) : null);
    } else if (x.kind === "search") {
      const how = first.searches.get(i) as SearchReads;
      const early = usableEarly(first, x, i);
      const nsReads = how.empty
        ? []
        : early
          ? [early]
          : namespacesOf(first, x).flatMap((ns, n) => {
              const read = second.reads.get(readId(ns.member, how.spec(n)));
              return read ? [read] : [];
            });
      const page = searchPage(ctx, nsReads, x.op, x.queryVector, how);
      hits.push(...page);
      results.push(page.map((h) => h.item));
    } else {
      const live = namespacesOf(first, x)
        .filter(
          (ns) => matchesAll(x.op.matchConditions, ns.namespace) && (second.byMember.get(ns.member)?.live ?? 0) > 0,
        )
        .map((ns) => ns.namespace);
      results.push(pageNamespaces(live, x.op));
    }
  });
  return { results, hits };
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
  const first = await registryRound(ctx, p);
  const second = await readWriteRound(ctx, p, first);

  // Cluster: registrations the writes wait for, and namespaces found empty.
  if (ctx.cluster) {
    const retired = new Map<string, number>();
    for (const read of second.byMember.values()) {
      if (read.live === 0) retired.set(read.namespace.member, read.namespace.seq);
    }
    await settleWrites(ctx, p.writes, second.outcomes, retired);
  }

  const { results, hits } = assemble(ctx, p, first, second);
  if (ctx.options.ttl.refreshOnRead) await runRouted(ctx, refreshCalls(ctx, hits));

  const { outcomes } = second;
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

/**
 * The first step of a store batch: check every operation, serialise every value and embed what needs embedding,
 * all before anything is sent, so a bad operation writes nothing.
 */
import type {
  GetOperation,
  ListNamespacesOperation,
  Operation,
  PutOperation,
  SearchOperation,
} from "@langchain/langgraph-checkpoint";
import { InvalidInputError } from "../errors.js";
import { storeNamespaceMember } from "../keys.js";
import { encodeValue } from "./codec.js";
import type { StoreContext } from "./context.js";
import type { PreparedWrite } from "./crud/put.js";
import { fieldScores } from "./field-index.js";
import { checkConditions } from "./list-namespaces.js";
import { checkItemKey, checkNamespace } from "./namespace.js";
import type { StoreWriteOptions } from "./options.js";
import { storedValue } from "./value-cipher.js";
import { embedQuery, embedTexts, encodeVectors, textsToEmbed } from "./vectors.js";
import { resolveWriter } from "./writer.js";

/** Extra per-write settings of the direct write methods (batch() writes use the store's defaults). */
export interface WriteExtras extends Omit<StoreWriteOptions, "index"> {
  /** undefined: unconditional; null or 0: must not exist; n: must be at version n. */
  readonly expectedVersion?: number | null;
}

export type Planned =
  | { kind: "get"; op: GetOperation }
  | { kind: "search"; op: SearchOperation; queryVector?: number[] }
  | { kind: "list"; op: ListNamespacesOperation }
  | { kind: "put" };

export interface Plan {
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
export function plan(ctx: StoreContext, ops: readonly Operation[], extras: readonly (WriteExtras | undefined)[]): Plan {
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
  const { stored, auditText } =
    op.value === null
      ? { stored: "", auditText: "" }
      : storedValue(ctx, encodeValue(op.value, what, ctx.options.maxValueBytes), op.namespace, op.key);
  const index = ctx.options.index;
  const embedFields = op.value === null || !index || op.index === false ? [] : (op.index ?? index.fields);
  const ttlMs = extras?.ttlMs !== undefined ? extras.ttlMs : (ctx.options.ttl.defaultTtlMs ?? null);
  return {
    namespace: [...op.namespace],
    key: op.key,
    member: storeNamespaceMember(op.namespace),
    op: op.value === null ? "delete" : "put",
    stored,
    auditText,
    value: op.value ?? undefined,
    vectors: null,
    embedFields,
    fieldScores: op.value === null || ctx.fields.length === 0 ? "" : fieldScores(ctx.fields, op.value),
    ttlMs,
    writer: resolveWriter(extras?.writer, ctx.options.agentId),
    expectedVersion: extras?.expectedVersion,
    fence: extras?.fence,
  };
}

/** Embeds query texts and indexed fields (each distinct text once) before anything is written. */
export async function embed(ctx: StoreContext, p: Plan): Promise<void> {
  const index = ctx.options.index;
  if (!index) return;
  const textsByWrite = p.writes.map((w) =>
    w.op === "put" && w.embedFields.length > 0 ? textsToEmbed(w.value ?? {}, w.embedFields) : [],
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

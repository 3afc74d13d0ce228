import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { CorruptDataError, InvalidInputError } from "../errors.js";

/**
 * Semantic search without Redis modules: the embeddings of an item's indexed fields are stored with the item as
 * little-endian float32, read back by search and ranked here by cosine similarity. Field paths, text extraction and
 * ranking follow InMemoryStore (paths like "a.b", "list[*].text", "list[-1]", "{a,b}", "*"; an item scores the best
 * of its vectors; items without vectors fill the page after the scored ones).
 */

/** Splits a field path into tokens: "a.b[*].c" -> ["a", "b", "[*]", "c"], "{x,y.z}" stays one token. */
export function tokenizeFieldPath(path: string): string[] {
  const tokens: string[] = [];
  let current = "";
  let i = 0;
  const flush = () => {
    if (current) tokens.push(current);
    current = "";
  };
  while (i < path.length) {
    const ch = path[i] as string;
    if (ch === "[" || ch === "{") {
      flush();
      const close = ch === "[" ? "]" : "}";
      let depth = 1;
      let group = ch;
      i++;
      while (i < path.length && depth > 0) {
        const c = path[i] as string;
        if (c === ch) depth++;
        else if (c === close) depth--;
        group += c;
        i++;
      }
      tokens.push(group);
      continue;
    }
    if (ch === ".") flush();
    else current += ch;
    i++;
  }
  flush();
  return tokens;
}

function leafText(value: unknown): string[] {
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return [String(value)];
  if (value === null || value === undefined) return [];
  if (typeof value === "object") return [JSON.stringify(value, null, 2)];
  return [];
}

function extract(value: unknown, tokens: readonly string[], pos: number): string[] {
  if (pos >= tokens.length) return leafText(value);
  const token = tokens[pos] as string;
  const out: string[] = [];
  if (pos === 0 && token === "$") out.push(JSON.stringify(value, null, 2));
  if (token.startsWith("[") && token.endsWith("]")) {
    if (!Array.isArray(value)) return [];
    const index = token.slice(1, -1);
    if (index === "*") {
      for (const element of value) out.push(...extract(element, tokens, pos + 1));
    } else {
      let at = Number.parseInt(index, 10);
      if (at < 0) at += value.length;
      if (at >= 0 && at < value.length) out.push(...extract(value[at], tokens, pos + 1));
    }
  } else if (token.startsWith("{") && token.endsWith("}")) {
    if (typeof value !== "object" || value === null) return [];
    for (const field of token
      .slice(1, -1)
      .split(",")
      .map((f) => f.trim())) {
      let current: unknown = value;
      for (const part of tokenizeFieldPath(field)) {
        current =
          current && typeof current === "object" && part in current
            ? (current as Record<string, unknown>)[part]
            : undefined;
        if (current === undefined) break;
      }
      if (typeof current === "string" || typeof current === "number" || typeof current === "boolean") {
        out.push(String(current));
      } else if (typeof current === "object") {
        out.push(JSON.stringify(current, null, 2)); // null included, as InMemoryStore does
      }
    }
  } else if (token === "*") {
    const children = Array.isArray(value) ? value : typeof value === "object" && value ? Object.values(value) : [];
    for (const child of children) out.push(...extract(child, tokens, pos + 1));
  } else if (typeof value === "object" && value !== null && token in value) {
    out.push(...extract((value as Record<string, unknown>)[token], tokens, pos + 1));
  }
  return out;
}

/** The texts at one field path of a value ("$" = the whole value as pretty JSON). */
export function textsAtPath(value: unknown, path: string): string[] {
  if (path === "$") return [JSON.stringify(value, null, 2)];
  return extract(value, tokenizeFieldPath(path), 0);
}

/** Texts to embed for a value: every text of every field, in field order. */
export function textsToEmbed(value: Record<string, unknown>, fields: readonly string[]): string[] {
  return fields.flatMap((field) => textsAtPath(value, field));
}

function checkDims(vector: readonly number[], dims: number, what: string): void {
  if (vector.length !== dims) {
    throw new InvalidInputError(
      `The embeddings returned ${vector.length} dimensions for ${what}; index.dims is ${dims}`,
    );
  }
}

/** Embeds each distinct text once; returns text -> vector. */
export async function embedTexts(
  embeddings: EmbeddingsInterface,
  texts: Iterable<string>,
  dims: number,
): Promise<Map<string, number[]>> {
  const unique = [...new Set(texts)];
  const out = new Map<string, number[]>();
  if (unique.length === 0) return out;
  const vectors = await embeddings.embedDocuments(unique);
  unique.forEach((text, i) => {
    const vector = vectors[i];
    if (!vector) throw new InvalidInputError(`The embeddings returned no vector for a text of ${text.length} chars`);
    checkDims(vector, dims, "a stored text");
    out.set(text, vector);
  });
  return out;
}

export async function embedQuery(embeddings: EmbeddingsInterface, query: string, dims: number): Promise<number[]> {
  const vector = await embeddings.embedQuery(query);
  checkDims(vector, dims, "a query");
  return vector;
}

export function encodeVectors(vectors: readonly (readonly number[])[]): Buffer | null {
  if (vectors.length === 0) return null;
  const dims = vectors[0]?.length ?? 0;
  const buffer = Buffer.allocUnsafe(vectors.length * dims * 4);
  vectors.forEach((vector, v) => {
    vector.forEach((x, i) => {
      buffer.writeFloatLE(x, (v * dims + i) * 4);
    });
  });
  return buffer;
}

export function decodeVectors(bytes: Buffer, dims: number, redisKey: string, field: string): Float32Array[] {
  if (bytes.length % (dims * 4) !== 0) {
    throw new CorruptDataError(
      redisKey,
      `field "${field}" holds ${bytes.length} bytes, not a multiple of ${dims} float32`,
    );
  }
  const out: Float32Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += dims * 4) {
    const vector = new Float32Array(dims);
    for (let i = 0; i < dims; i++) vector[i] = bytes.readFloatLE(offset + i * 4);
    out.push(vector);
  }
  return out;
}

function norm(vector: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += (vector[i] as number) * (vector[i] as number);
  return Math.sqrt(sum);
}

/** Cosine similarity (0 when either vector is all zeros). */
export function cosine(query: readonly number[], queryNorm: number, vector: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < vector.length; i++) dot += (vector[i] as number) * (query[i] as number);
  const vectorNorm = norm(vector);
  return queryNorm && vectorNorm ? dot / (queryNorm * vectorNorm) : 0;
}

/**
 * Ranks candidates (in search order) against the query: scored ones by their best vector, highest first (ties keep
 * search order), then `offset`/`limit`; when the page is short, candidates without vectors fill it (score undefined).
 */
export function rankByQuery<C extends { readonly vectors: readonly Float32Array[] }>(
  candidates: readonly C[],
  query: readonly number[],
  offset: number,
  limit: number,
): { candidate: C; score: number | undefined }[] {
  const queryNorm = norm(query);
  const scored: { candidate: C; score: number }[] = [];
  const scoreless: C[] = [];
  for (const candidate of candidates) {
    if (candidate.vectors.length === 0) {
      scoreless.push(candidate);
      continue;
    }
    let best = Number.NEGATIVE_INFINITY;
    for (const vector of candidate.vectors) best = Math.max(best, cosine(query, queryNorm, vector));
    scored.push({ candidate, score: best });
  }
  scored.sort((a, b) => b.score - a.score);
  const page: { candidate: C; score: number | undefined }[] = scored.slice(offset, offset + limit);
  if (page.length < limit) {
    for (const candidate of scoreless.slice(0, limit - page.length)) page.push({ candidate, score: undefined });
  }
  return page;
}

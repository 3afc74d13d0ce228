/**
 * Filter indexes (the `filterIndex` option): one sorted set per declared field and namespace, item key -> score,
 * kept by the write scripts. What goes in them and which filter conditions they can serve:
 *
 * - "number" fields hold `Number(value)` (the coercion InMemoryStore's `$gt $gte $lt $lte` apply), for every value
 *   whose coercion is not NaN. A range operator is served exactly; equality (plain or `$eq`) is served as the range
 *   [v, v], a superset (the string "5" coerces to 5 but is not === 5), which the client's exact filter narrows.
 * - "string" and "boolean" fields hold a 48-bit hash of the value with its type (strings, numbers and booleans;
 *   other values are not indexed). Equality is served as the hash's score; a hash collision only adds a candidate
 *   the client's exact filter then drops.
 *
 * Everything else (`$ne`, `$in`, `$nin`, operators on "string" fields other than equality, undeclared fields) is a
 * residual condition: evaluated on the client over what the served conditions select. A filter with no served
 * condition reads the whole namespace, as without indexes.
 */
import { createHash } from "node:crypto";
import { storeFieldIndexKey } from "../keys.js";
import type { FilterFieldType } from "./options.js";

export interface DeclaredField {
  readonly name: string;
  readonly type: FilterFieldType;
}

/** The declared fields, in declaration order (the order of their keys in every script call). */
export function declaredFields(option: { fields: Record<string, FilterFieldType> } | undefined): DeclaredField[] {
  return Object.entries(option?.fields ?? {}).map(([name, type]) => ({ name, type }));
}

/** The filter index keys of a namespace, in declaration order. */
export function fieldIndexKeys(prefix: string, namespace: readonly string[], fields: readonly DeclaredField[]) {
  return fields.map((field) => storeFieldIndexKey(prefix, namespace, field.name));
}

function scoreText(n: number): string {
  if (n === Number.POSITIVE_INFINITY) return "+inf";
  if (n === Number.NEGATIVE_INFINITY) return "-inf";
  return String(n);
}

/** The score equality is served by: a 48-bit hash of the type and the value (exact in a double). */
function equalityScore(value: unknown): string | undefined {
  const type = typeof value;
  if (type !== "string" && type !== "number" && type !== "boolean") return undefined;
  const digest = createHash("sha1")
    .update(`${type[0]}:${String(value)}`)
    .digest();
  return String(digest.readUIntBE(0, 6));
}

function numberScore(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isNaN(n) ? undefined : scoreText(n);
}

/** The scores of a value, one per declared field ("" = not in that index), joined by "," for the write script. */
export function fieldScores(fields: readonly DeclaredField[], value: Record<string, unknown>): string {
  return fields
    .map((field) => {
      const own = Object.hasOwn(value, field.name) ? value[field.name] : undefined;
      return (field.type === "number" ? numberScore(own) : equalityScore(own)) ?? "";
    })
    .join(",");
}

/** How a filter is read: the index conditions for the script, and whether they alone decide the result. */
export interface FilterPlan {
  /** "i,min,max" joined by ";" (i from 1, in declaration order): the script's conditions argument. */
  readonly conditions: string;
  /** Every condition of the filter is served exactly, so the script can apply offset and limit itself. */
  readonly exact: boolean;
  /** Some served condition matches nothing: the result is empty without reading anything. */
  readonly empty: boolean;
}

const OPERATORS = new Set(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin"]);

function isOperatorObject(condition: unknown): condition is Record<string, unknown> {
  return (
    typeof condition === "object" && condition !== null && Object.keys(condition).every((key) => OPERATORS.has(key))
  );
}

interface Bound {
  value: number;
  exclusive: boolean;
}

class Range {
  lower: Bound = { value: Number.NEGATIVE_INFINITY, exclusive: false };
  upper: Bound = { value: Number.POSITIVE_INFINITY, exclusive: false };
  nothing = false;

  above(value: number, exclusive: boolean): void {
    if (Number.isNaN(value)) this.nothing = true;
    else if (value > this.lower.value || (value === this.lower.value && exclusive)) this.lower = { value, exclusive };
  }

  below(value: number, exclusive: boolean): void {
    if (Number.isNaN(value)) this.nothing = true;
    else if (value < this.upper.value || (value === this.upper.value && exclusive)) this.upper = { value, exclusive };
  }

  isEmpty(): boolean {
    const { lower, upper } = this;
    return (
      this.nothing || lower.value > upper.value || (lower.value === upper.value && (lower.exclusive || upper.exclusive))
    );
  }

  text(): string {
    const bound = (b: Bound) => `${b.exclusive ? "(" : ""}${scoreText(b.value)}`;
    return `${bound(this.lower)},${bound(this.upper)}`;
  }
}

function isPrimitive(value: unknown): boolean {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

/**
 * Plans a search filter over the declared fields; undefined when no condition is served by an index (the
 * namespace is then read in full, as without indexes).
 */
export function planFilter(
  fields: readonly DeclaredField[],
  filter: Record<string, unknown> | undefined,
): FilterPlan | undefined {
  if (!filter || fields.length === 0) return undefined;
  const conditions: string[] = [];
  let exact = true;
  let empty = false;
  for (const [name, condition] of Object.entries(filter)) {
    const at = fields.findIndex((field) => field.name === name);
    const field = fields[at];
    const ops = isOperatorObject(condition) ? Object.entries(condition) : [["$eq", condition] as const];
    if (ops.length === 0) continue; // an operator object with no operator: no constraint (as InMemoryStore)
    if (!field) {
      exact = false;
      continue;
    }
    if (field.type === "number") {
      const range = new Range();
      let served = false;
      for (const [op, expected] of ops) {
        const n = Number(expected);
        if (op === "$gt" || op === "$gte") {
          range.above(n, op === "$gt");
          served = true;
        } else if (op === "$lt" || op === "$lte") {
          range.below(n, op === "$lt");
          served = true;
        } else if (op === "$eq" && (isPrimitive(expected) || expected === null) && !Number.isNaN(n)) {
          // strict equality: the candidates are those whose value coerces to the same number (a superset)
          range.above(n, false);
          range.below(n, false);
          served = true;
          exact = false;
        } else {
          exact = false;
        }
      }
      if (!served) continue;
      if (range.isEmpty()) empty = true;
      else conditions.push(`${at + 1},${range.text()}`);
    } else {
      let served = false;
      for (const [op, expected] of ops) {
        const score = op === "$eq" ? equalityScore(expected) : undefined;
        if (score !== undefined && !served) {
          conditions.push(`${at + 1},${score},${score}`);
          served = true;
        }
      }
      exact = false; // a hash, not the value: the client's exact filter decides
    }
  }
  if (conditions.length === 0 && !empty) return undefined;
  return { conditions: conditions.join(";"), exact, empty };
}

import type { ListNamespacesOperation, MatchCondition } from "@langchain/langgraph-checkpoint";
import { InvalidInputError } from "../errors.js";

/**
 * listNamespaces over the registry, with InMemoryStore's semantics: prefix and suffix conditions ("*" matches any
 * one label) must all hold; maxDepth truncates and de-duplicates; results sort by the ":"-joined path
 * (String.prototype.localeCompare) before offset and limit apply.
 */
function matches(condition: MatchCondition, namespace: readonly string[]): boolean {
  const { matchType, path } = condition;
  if (path.length > namespace.length) return false;
  const start = matchType === "prefix" ? 0 : namespace.length - path.length;
  return path.every((label, i) => label === "*" || namespace[start + i] === label);
}

export function checkConditions(conditions: readonly MatchCondition[] | undefined): void {
  for (const condition of conditions ?? []) {
    if (condition.matchType !== "prefix" && condition.matchType !== "suffix") {
      throw new InvalidInputError(`Unsupported match type: ${String(condition.matchType)}`);
    }
    if (!Array.isArray(condition.path)) throw new InvalidInputError("A match condition's path must be an array");
  }
}

export function matchesAll(conditions: readonly MatchCondition[] | undefined, namespace: readonly string[]): boolean {
  return (conditions ?? []).every((condition) => matches(condition, namespace));
}

/** The longest run of literal labels any prefix condition starts with: the registry range to read. */
export function literalPrefix(conditions: readonly MatchCondition[] | undefined): string[] {
  let best: string[] = [];
  for (const condition of conditions ?? []) {
    if (condition.matchType !== "prefix") continue;
    const wildcard = condition.path.indexOf("*");
    const literal = condition.path.slice(0, wildcard < 0 ? undefined : wildcard);
    if (literal.length > best.length) best = literal;
  }
  return best;
}

export function pageNamespaces(live: readonly string[][], op: ListNamespacesOperation): string[][] {
  let namespaces = live.map((ns) => [...ns]);
  if (op.maxDepth !== undefined) {
    const unique = new Set(namespaces.map((ns) => ns.slice(0, op.maxDepth).join(":")));
    namespaces = [...unique].map((joined) => joined.split(":"));
  }
  namespaces.sort((a, b) => a.join(":").localeCompare(b.join(":")));
  const offset = op.offset ?? 0;
  return namespaces.slice(offset, offset + (op.limit ?? namespaces.length));
}

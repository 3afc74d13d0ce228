/**
 * Search filters, evaluated exactly as InMemoryStore evaluates them: each filter key names a top-level field of the
 * value; a plain value matches by strict equality; an object whose keys are all operators ($eq $ne $gt $gte $lt $lte
 * $in $nin) must satisfy every operator, the ordering ones comparing as numbers.
 */
const OPERATORS = new Set(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin"]);

function isOperatorObject(filter: unknown): filter is Record<string, unknown> {
  return typeof filter === "object" && filter !== null && Object.keys(filter).every((key) => OPERATORS.has(key));
}

function matchesOperator(op: string, actual: unknown, expected: unknown): boolean {
  switch (op) {
    case "$eq":
      return actual === expected;
    case "$ne":
      return actual !== expected;
    case "$gt":
      return Number(actual) > Number(expected);
    case "$gte":
      return Number(actual) >= Number(expected);
    case "$lt":
      return Number(actual) < Number(expected);
    case "$lte":
      return Number(actual) <= Number(expected);
    case "$in":
      return Array.isArray(expected) ? expected.includes(actual) : false;
    case "$nin":
      return Array.isArray(expected) ? !expected.includes(actual) : true;
    default:
      return false;
  }
}

export function matchesCondition(actual: unknown, condition: unknown): boolean {
  if (!isOperatorObject(condition)) return actual === condition;
  return Object.keys(condition)
    .filter((op) => op.startsWith("$"))
    .every((op) => matchesOperator(op, actual, condition[op]));
}

export function matchesFilter(value: Record<string, unknown>, filter: Record<string, unknown> | undefined): boolean {
  if (!filter) return true;
  return Object.entries(filter).every(([field, condition]) => matchesCondition(value[field], condition));
}

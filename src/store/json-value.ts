import { InvalidInputError } from "../errors.js";
import { childPath } from "../value-checks.js";

/**
 * Store values must be plain JSON: anything JSON would silently change (NaN, Infinity, a Date, a Map, a function...)
 * is refused before it is written, with the path to it.
 */

function describeKind(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (typeof value !== "object" || value === null) return `a ${typeof value}`;
  const name = Object.getPrototypeOf(value)?.constructor?.name;
  return typeof name === "string" && name !== "" ? `a ${name}` : "an object with a custom prototype";
}

/**
 * Where `value` holds something JSON cannot keep exactly, as "a Date at value.createdAt", or undefined when it is
 * plain JSON. Allowed: plain objects (own string keys), arrays, strings, finite numbers other than -0, booleans,
 * null, and `undefined` as an object property (JSON omits the property, which reads back as absent). Refused
 * besides: -0 (JSON writes 0) and symbol-keyed properties (JSON drops them). Iterative.
 */
export function jsonViolation(value: unknown, root = "value"): string | undefined {
  const stack: { value: unknown; path: string }[] = [{ value, path: root }];
  // a value reached twice is checked once (a cycle is left to JSON.stringify, which refuses it)
  const seen = new Set<object>();
  while (stack.length > 0) {
    const { value: current, path } = stack.pop() as (typeof stack)[number];
    switch (typeof current) {
      case "string":
      case "boolean":
        continue;
      case "number":
        if (!Number.isFinite(current)) return `${describeKind(current)} at ${path}`;
        if (Object.is(current, -0)) return `-0 at ${path} (JSON would turn it into 0)`;
        continue;
      case "object":
        break;
      default:
        return `${describeKind(current)} at ${path}`;
    }
    if (current === null || seen.has(current)) continue;
    seen.add(current);
    if (Array.isArray(current)) {
      for (let i = 0; i < current.length; i++) {
        if (current[i] === undefined) return `undefined at ${childPath(path, i)} (JSON would turn it into null)`;
        stack.push({ value: current[i], path: childPath(path, i) });
      }
      continue;
    }
    const proto = Object.getPrototypeOf(current);
    if (proto !== Object.prototype && proto !== null) return `${describeKind(current)} at ${path}`;
    const symbol = Object.getOwnPropertySymbols(current)[0];
    if (symbol !== undefined) {
      return `a symbol-keyed property ${String(symbol)} at ${path} (JSON would drop it)`;
    }
    for (const [key, child] of Object.entries(current)) {
      if (child !== undefined) stack.push({ value: child, path: childPath(path, key) });
    }
  }
  return undefined;
}

/** Throws InvalidInputError (nothing written) when a store value is not plain JSON; see jsonViolation. */
export function requireJsonValue(value: unknown, what: string): void {
  const violation = jsonViolation(value);
  if (violation !== undefined) {
    throw new InvalidInputError(
      `${what}: the value must be plain JSON, but holds ${violation}; convert it first (e.g. a Date with ` +
        "toISOString()); nothing was written",
    );
  }
}

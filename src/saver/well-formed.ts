import { describeValue, InvalidConfigError, InvalidInputError } from "../errors.js";
import { hasLoneSurrogate } from "../value-checks.js";

function check(values: Record<string, string>, operation: string, makeError: (message: string) => Error): void {
  for (const name in values) {
    if (hasLoneSurrogate(values[name] as string)) throw makeError(loneSurrogate(name, operation));
  }
}

function loneSurrogate(name: string, operation: string): string {
  return `${operation}: ${name} contains a lone UTF-16 surrogate, which cannot be stored exactly; use well-formed unicode`;
}

/** Thread ids, namespaces and checkpoint ids from a config. */
export function requireWellFormed(values: Record<string, string>, operation: string): void {
  check(values, operation, (message) => new InvalidConfigError(message));
}

/** Task ids, task paths and channel names passed as arguments. */
export function requireWellFormedInput(values: Record<string, string>, operation: string): void {
  check(values, operation, (message) => new InvalidInputError(message));
}

/** Like requireWellFormedInput({ [name]: value }) for each of `values` (channel names), without an object each. */
export function requireWellFormedInputs(name: string, values: readonly string[], operation: string): void {
  for (const value of values) {
    if (hasLoneSurrogate(value)) throw new InvalidInputError(loneSurrogate(name, operation));
  }
}

/**
 * The keys of a checkpoint's maps (channel_values, channel_versions, versions_seen and its node maps) and of the
 * versions a put passes: LangGraph's serializer reads a `__proto__` key back as the object's prototype, so a
 * checkpoint with one would not read back as it was put (MemorySaver drops such a channel without a word).
 */
export function requireStorableKeys(what: string, keys: Iterable<string>, operation: string): void {
  for (const key of keys) {
    if (key === "__proto__") {
      throw new InvalidInputError(
        `${operation}: a ${what} named "__proto__" cannot be stored (LangGraph's serializer reads that key back as ` +
          "the object's prototype); rename it",
      );
    }
  }
}

/** An array of non-empty, well-formed ids (thread ids for prune, run ids for deleteForRuns), named `what` in errors. */
export function requireIdList(ids: readonly string[], what: "thread id" | "run id", operation: string): void {
  if (!Array.isArray(ids)) {
    throw new InvalidInputError(`${operation}: expected an array of ${what}s, received ${describeValue(ids)}`);
  }
  for (const id of ids) {
    if (typeof id !== "string" || id === "") {
      throw new InvalidInputError(
        `${operation}: each ${what} must be a non-empty string, received ${describeValue(id)}`,
      );
    }
    requireWellFormedInput({ [what]: id }, operation);
  }
}

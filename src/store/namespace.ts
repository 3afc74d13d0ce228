import { InvalidNamespaceError, validateNamespace } from "@langchain/langgraph-checkpoint";
import { InvalidInputError } from "../errors.js";
import { hasLoneSurrogate } from "../value-checks.js";

/**
 * Namespace checks, identical to InMemoryStore's: labels are non-empty strings without "." or ":" (or NUL), and
 * the namespace is not empty. The reserved root "langgraph" is refused by put() (as BaseStore.put does) but accepted
 * through batch(), as InMemoryStore accepts it there. Errors are LangGraph's own InvalidNamespaceError.
 */
export function checkNamespace(namespace: unknown, options: { allowEmpty?: boolean; allowReservedRoot?: boolean }) {
  if (!Array.isArray(namespace)) {
    throw new InvalidNamespaceError(`Namespace must be an array of strings, got ${typeof namespace}.`);
  }
  validateNamespace(namespace, options);
  if (namespace.some((label) => hasLoneSurrogate(label))) {
    throw new InvalidNamespaceError(
      `Namespace labels must be well-formed unicode: a lone UTF-16 surrogate cannot be stored exactly. Got ${JSON.stringify(namespace)}.`,
    );
  }
}

export function checkItemKey(key: unknown): asserts key is string {
  if (typeof key !== "string") throw new InvalidInputError(`Item key must be a string, got ${typeof key}.`);
  if (hasLoneSurrogate(key)) {
    throw new InvalidInputError(
      `Item key ${JSON.stringify(key)} contains a lone UTF-16 surrogate, which cannot be stored exactly; use well-formed unicode.`,
    );
  }
}

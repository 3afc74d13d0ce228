import { InvalidConfigError, InvalidInputError } from "../errors.js";
import { hasLoneSurrogate } from "../value-checks.js";

function check(values: Record<string, string>, operation: string, makeError: (message: string) => Error): void {
  for (const name in values) {
    const value = values[name] as string;
    if (hasLoneSurrogate(value)) {
      throw makeError(
        `${operation}: ${name} contains a lone UTF-16 surrogate, which cannot be stored exactly; ` +
          "use well-formed unicode",
      );
    }
  }
}

/** Thread ids, namespaces and checkpoint ids from a config. */
export function requireWellFormed(values: Record<string, string>, operation: string): void {
  check(values, operation, (message) => new InvalidConfigError(message));
}

/** Task ids, task paths and channel names passed as arguments. */
export function requireWellFormedInput(values: Record<string, string>, operation: string): void {
  check(values, operation, (message) => new InvalidInputError(message));
}

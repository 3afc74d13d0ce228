import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { InvalidConfigError, InvalidInputError } from "../errors.js";
import { hasLoneSurrogate } from "../value-checks.js";
import type { LockKeyOption } from "./options.js";

/**
 * The lock names one call of a guarded node takes: from the `key` option (a name, names, or a function of state and
 * config), or `thread:<thread_id>` by default. Returned de-duplicated and sorted, which is the order they are taken
 * in: every process takes any two names in the same order, so two agents can never wait for each other in a cycle.
 */
export async function resolveLockNames<State>(
  key: LockKeyOption<State> | undefined,
  state: State,
  config: LangGraphRunnableConfig,
): Promise<string[]> {
  if (key === undefined) {
    const threadId: unknown = config.configurable?.thread_id;
    if (typeof threadId !== "string" && typeof threadId !== "number") {
      throw new InvalidConfigError(
        "guarded(): no `key` option was given and config.configurable.thread_id is missing, so there is nothing to lock",
      );
    }
    return [`thread:${threadId}`];
  }
  const resolved = typeof key === "function" ? await key(state, config) : key;
  const names = typeof resolved === "string" ? [resolved] : resolved;
  if (!Array.isArray(names) || names.length === 0) {
    throw new InvalidInputError(`guarded(): the key function returned no lock name (got ${describe(resolved)})`);
  }
  for (const name of names) {
    if (typeof name !== "string" || name.length === 0) {
      throw new InvalidInputError(`guarded(): lock names must be non-empty strings (got ${describe(name)})`);
    }
    if (hasLoneSurrogate(name)) {
      throw new InvalidInputError(
        `guarded(): lock name ${JSON.stringify(name)} contains a lone UTF-16 surrogate; two such names would share ` +
          "one lock in Redis, so use well-formed unicode",
      );
    }
  }
  return [...new Set(names as string[])].sort(compareCodeUnits);
}

/** Plain code-unit order, the same in every process whatever its locale. */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return value === "" ? "an empty string" : typeof value;
}

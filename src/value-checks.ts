/**
 * Checks on values and names shared by every capability. The capability-specific ones sit beside their users:
 * src/saver/dump-checkpoint-value.ts (what LangGraph's serializer can write but not read back) and
 * src/store/json-value.ts (anything JSON would silently change).
 */

/** A lone UTF-16 surrogate has no UTF-8 form: Redis would store U+FFFD, and two different names would collide. */
export function hasLoneSurrogate(text: string): boolean {
  // String.prototype.isWellFormed (Node 20): native, several times faster than the /\p{Cs}/u test it replaces.
  return !(text as string & { isWellFormed(): boolean }).isWellFormed();
}

export function isContainer(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}

/** Nesting depth of `value`, or `limit + 1` as soon as it is deeper than `limit`; iterative, so any depth is safe. */
export function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (!isContainer(current) || seen.has(current)) continue;
    seen.add(current);
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return limit + 1;
    const children =
      current instanceof Map
        ? [...current.keys(), ...current.values()]
        : current instanceof Set
          ? [...current]
          : Object.values(current);
    for (const child of children) if (isContainer(child)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** `path.key`, `path["odd key"]` or `path[3]`: where a value sits, for error messages. */
export function childPath(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

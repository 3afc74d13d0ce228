/**
 * Forks as branches: checkpoints oldest first, each placed on its parent's lane when it is the parent's first child,
 * else on a new lane (a fork: a second run from an older checkpoint, replay or updateState).
 */
export interface Placed<T> {
  readonly item: T;
  readonly lane: number;
  /** True for the first checkpoint of a lane other than 0: where a fork starts. */
  readonly forkStart: boolean;
}

export function placeOnLanes<T extends { checkpointId: string; parentId: string | null; ns: string }>(
  newestFirst: readonly T[],
): Placed<T>[] {
  const ordered = [...newestFirst].sort((a, b) =>
    a.ns === b.ns ? a.checkpointId.localeCompare(b.checkpointId) : a.ns.localeCompare(b.ns),
  );
  const laneOf = new Map<string, number>();
  const hasChild = new Set<string>();
  let lanes = 0;
  const placed: Placed<T>[] = [];
  for (const item of ordered) {
    const parentKey = item.parentId === null ? undefined : `${item.ns}\0${item.parentId}`;
    const parentLane = parentKey === undefined ? undefined : laneOf.get(parentKey);
    let lane: number;
    let forkStart = false;
    if (parentLane !== undefined && !hasChild.has(parentKey as string)) lane = parentLane;
    else if (parentLane === undefined && lanes === 0) lane = lanes++;
    else {
      lane = lanes++;
      forkStart = parentLane !== undefined;
    }
    if (parentKey !== undefined) hasChild.add(parentKey);
    laneOf.set(`${item.ns}\0${item.checkpointId}`, lane);
    placed.push({ item, lane, forkStart });
  }
  return placed;
}

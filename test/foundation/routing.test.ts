/**
 * runRouted on a cluster when the client's slot map changes between grouping a round and sending it: ioredis
 * refuses the pipeline of a group whose keys the map now places on two masters (before sending any of it), and the
 * group's calls are sent one pipeline per slot. Seen in the fault suite while a slot moved: listExpiredLeases failed with
 * "All keys in the pipeline should belong to the same slots allocation group". Here the map is changed at the moment
 * the group's pipeline is made, as a redirection seen by another call would change it.
 */
import { createRedisContext } from "../../src/context.js";
import { commandCall, keySlot, runRouted } from "../../src/routing.js";
import { newCluster, testPrefix } from "../helpers/redis.js";

/** ioredis's slot map: each slot's nodes (master first), and the group of nodes each slot's pipelines go to. */
interface SlotMap {
  slots: string[][];
  _groupsBySlot: (number | undefined)[];
}

/** `count` keys of the prefix whose slots one master serves, that master, and a slot another master serves. */
function keysOnOneMaster(map: SlotMap, prefix: string, count: number) {
  const masterOf = (key: string) => map.slots[keySlot(key)]?.[0] as string;
  const first = `${prefix}:0`;
  const keys = [first];
  for (let i = 1; keys.length < count; i++) {
    if (masterOf(`${prefix}:${i}`) === masterOf(first)) keys.push(`${prefix}:${i}`);
  }
  const otherSlot = map.slots.findIndex((nodes) => nodes?.[0] !== undefined && nodes[0] !== masterOf(first));
  return { keys, master: masterOf(first), otherSlot };
}

it("a group whose keys the slot map moves apart before it is sent goes one pipeline per slot; each call runs once", async () => {
  const cluster = newCluster();
  await cluster.ping();
  const ctx = createRedisContext({ client: cluster, keyPrefix: testPrefix("routing"), component: "test" });
  const map = cluster as unknown as SlotMap;
  const { keys, master, otherSlot } = keysOnOneMaster(map, ctx.keyPrefix, 4);
  const moved = keySlot(keys[1] as string);

  // Once the round is grouped (all four on one master), the map sends one key's slot to another master, as ioredis
  // does on a MOVED reply: the group's pipeline now spans two groups of nodes, and ioredis refuses it.
  const original = cluster.pipeline.bind(cluster);
  let pipelines = 0;
  (cluster as { pipeline: unknown }).pipeline = (...args: Parameters<typeof original>) => {
    pipelines += 1;
    if (pipelines === 1) {
      map.slots[moved] = [...(map.slots[otherSlot] as string[])];
      map._groupsBySlot[moved] = map._groupsBySlot[otherSlot];
    }
    return original(...args);
  };
  try {
    const replies = await runRouted(
      ctx,
      keys.map((key) => commandCall<number>(key, (pipeline) => void pipeline.incr(key))),
    );
    expect(replies).toEqual([1, 1, 1, 1]);
  } finally {
    (cluster as { pipeline: unknown }).pipeline = original;
  }
  // The refused pipeline, then one per slot: the moved key's went to the other master, which redirected it back
  // (ioredis followed the MOVED and put the slot back in its map).
  expect(pipelines).toBe(1 + new Set(keys.map(keySlot)).size);
  expect(map.slots[moved]?.[0]).toBe(master);
  expect(await Promise.all(keys.map((key) => cluster.get(key)))).toEqual(["1", "1", "1", "1"]);
});

/**
 * RedisSaver under hostile input: thread ids, namespaces, checkpoint ids, channel names, task ids and values that
 * are empty, huge, unicode, binary, deeply nested, full of `{ } : * |`, NaN, Infinity, undefined or not strings.
 * Each put / putWrites either round-trips exactly (what LangGraph's serializer gives back for the value: the saver
 * adds no change of its own) or throws a named error and leaves nothing behind. Never a crash or a hang.
 */
import { JsonPlusSerializer, uuid6 } from "@langchain/langgraph-checkpoint";
import fc from "fast-check";
import { InvalidInputError, RedisSaver } from "../../src/index.js";
import { recordCounts } from "../helpers/counts.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { hostileId, hostileString, hostileValue, isNamedError, settle } from "./inputs.js";

const serde = new JsonPlusSerializer();

/** What the serializer alone gives back for `value`: the exact round trip any checkpointer owes. */
async function viaSerde(value: unknown): Promise<unknown> {
  const [type, bytes] = await serde.dumpsTyped(value);
  return serde.loadsTyped(type, bytes);
}

/** The serializer's own verdict: undefined when it can serialise `value`, else its error. */
async function serdeRefuses(value: unknown): Promise<unknown> {
  try {
    await serde.dumpsTyped(value);
    return undefined;
  } catch (error) {
    return error;
  }
}

const input = fc.record({
  threadId: hostileId,
  ns: fc.oneof(hostileId, fc.constant(undefined)),
  checkpointId: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: hostileId }),
  values: fc.dictionary(hostileString, hostileValue, { maxKeys: 3 }),
  taskId: hostileId,
  taskPath: fc.oneof(hostileString, fc.constant(undefined)),
  writeChannel: hostileString,
  writeValue: hostileValue,
});

describe.each(targets)("RedisSaver with hostile input ($name)", ({ name, connect }) => {
  it("round-trips exactly or throws a named error, and never writes half", async (context) => {
    const client = connect();
    let tried = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(input, async (i) => {
        tried++;
        const saver = new RedisSaver({ client, keyPrefix: testPrefix("bad") });
        const id = typeof i.checkpointId === "string" ? i.checkpointId : uuid6(-1);
        const versions = Object.fromEntries(Object.keys(i.values).map((channel) => [channel, 1]));
        const checkpoint = {
          v: 4,
          id,
          ts: "2025-01-01T00:00:00.000Z",
          channel_values: i.values,
          channel_versions: versions,
          versions_seen: {},
        };
        const config = { configurable: { thread_id: i.threadId, checkpoint_ns: i.ns } };
        const put = await settle(
          saver.put(config as never, checkpoint as never, { source: "input", step: -1, parents: {} }, versions),
        );
        if (!put.ok) {
          refused++;
          expect(isNamedError(put.error), `put threw ${String(put.error)}`).toBe(true);
          // nothing left behind: the checkpoint cannot be read back (or the config is unreadable altogether)
          const read = await settle(
            saver.getTuple({
              configurable: { thread_id: i.threadId, checkpoint_ns: i.ns ?? "", checkpoint_id: id },
            } as never),
          );
          if (read.ok) expect(read.value).toBeUndefined();
          else expect(isNamedError(read.error)).toBe(true);
          return;
        }
        for (const value of Object.values(i.values)) expect(await serdeRefuses(value)).toBeUndefined();
        const tuple = await saver.getTuple(put.value);
        const expected = Object.fromEntries(
          await Promise.all(Object.entries(i.values).map(async ([channel, value]) => [channel, await viaSerde(value)])),
        );
        expect(tuple?.checkpoint.channel_values).toStrictEqual(expected);
        expect(tuple?.config.configurable).toEqual({
          thread_id: i.threadId,
          checkpoint_ns: i.ns ?? "",
          checkpoint_id: id,
        });

        const writes = await settle(
          saver.putWrites(put.value, [[i.writeChannel, i.writeValue]], i.taskId as string, i.taskPath),
        );
        const after = await saver.getTuple(put.value);
        if (!writes.ok) {
          refused++;
          expect(isNamedError(writes.error), `putWrites threw ${String(writes.error)}`).toBe(true);
          expect(after?.pendingWrites).toEqual([]);
          return;
        }
        expect(after?.pendingWrites).toStrictEqual([[i.taskId, i.writeChannel, await viaSerde(i.writeValue)]]);
      }),
      { numRuns: name === "cluster" ? 80 : 200 },
    );
    recordCounts(context, { inputsTried: tried });
    // the generator must reach both outcomes, or it is not testing what it says
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThan(tried);
  });

  it("refuses a channel or node named __proto__, which LangGraph's serializer cannot read back, and writes nothing", async () => {
    const client = connect();
    const saver = new RedisSaver({ client, keyPrefix: testPrefix("proto") });
    const proto = (value: unknown) => JSON.parse(`{"__proto__": ${JSON.stringify(value)}}`);
    const base = { v: 4, ts: "2025-01-01T00:00:00.000Z", channel_values: {}, channel_versions: {}, versions_seen: {} };
    const cases = [
      { channel_values: proto({}), channel_versions: proto(1) },
      { channel_versions: proto(1) },
      { versions_seen: proto({ a: 1 }) },
      { versions_seen: { node: proto(1) } },
    ];
    for (const [i, fields] of [...cases, {}].entries()) {
      const checkpoint = { ...base, ...fields, id: uuid6(i) };
      const config = { configurable: { thread_id: `t${i}`, checkpoint_ns: "" } };
      const metadata = { source: "input" as const, step: -1, parents: {} };
      const newVersions = i === cases.length ? proto(1) : {};
      await expect(saver.put(config, checkpoint as never, metadata, newVersions), `case ${i}`).rejects.toThrow(
        InvalidInputError,
      );
      expect(await saver.getTuple(config), `case ${i}`).toBeUndefined();
    }
  });
});

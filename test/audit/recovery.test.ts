/**
 * Audit of run leases: a run takes its lease (lease.taken), a recoverer claims a crashed run (lease.claimed) and
 * resumes it (run.resumed), each event written by the lease script itself; a lease taken over is lease.lost.
 */
import { MemorySaver } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import type { RedisClient } from "../../src/client.js";
import { RunLeaseLostError, resumeCrashedRuns, withRunLease } from "../../src/index.js";
import { auditRegistryKey, runLeaseHoldersKey, runLeaseMember, threadBucket } from "../../src/keys.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { crashRun, testGraph, waitUntil } from "../recovery/helpers.js";

async function leaseEvents(
  client: RedisClient,
  prefix: string,
): Promise<{ kind: string; ctx: Record<string, unknown> }[]> {
  const events: { kind: string; atMs: number; id: string; ctx: Record<string, unknown> }[] = [];
  for (const stream of await client.smembers(auditRegistryKey(prefix))) {
    for (const [id, flat] of (await client.xrange(stream, "-", "+")) as [string, string[]][]) {
      const fields: Record<string, string> = {};
      for (let i = 0; i < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
      events.push({ kind: fields.kind ?? "", atMs: Number(fields.atMs), id, ctx: JSON.parse(fields.ctx ?? "{}") });
    }
  }
  return events.sort((a, b) => a.atMs - b.atMs || a.id.localeCompare(b.id)).map(({ kind, ctx }) => ({ kind, ctx }));
}

describe.each(targets)("audit of run leases ($name)", ({ connect }) => {
  it("records lease.taken for a run, lease.claimed and run.resumed for a crashed one", async () => {
    const client = connect();
    const keyPrefix = testPrefix("aurec");
    const checkpointer = new MemorySaver();
    const app = withRunLease(testGraph({ checkpointer }), { client, keyPrefix, name: "g", owner: "w1", audit: true });
    await app.invoke({ input: 1 }, { configurable: { thread_id: "t-ok" } });
    expect((await leaseEvents(client, keyPrefix)).map((e) => [e.kind, e.ctx.threadId, e.ctx.owner])).toEqual([
      ["lease.taken", "t-ok", "w1"],
    ]);

    await crashRun({ checkpointer, keyPrefix, name: "g", threadId: "t-crash", leaseMs: 300, connect });
    const recoverer = withRunLease(testGraph({ checkpointer }), {
      client,
      keyPrefix,
      name: "g",
      owner: "r1",
      audit: { agentId: "recoverer-1" },
    });
    await waitUntil(async () => (await resumeCrashedRuns(recoverer)).resumed === 1);
    const crashed = (await leaseEvents(client, keyPrefix)).filter((e) => e.ctx.threadId === "t-crash");
    expect(crashed.map((e) => [e.kind, e.ctx.agent, e.ctx.graph])).toEqual([
      ["lease.claimed", "recoverer-1", "g"],
      ["run.resumed", "recoverer-1", "g"],
    ]);
  });

  it("records lease.lost when another holder takes the lease over", async () => {
    const client = connect();
    const keyPrefix = testPrefix("aurec");
    const app = withRunLease(testGraph({ checkpointer: new MemorySaver(), behaviour: { b1: "block" } }), {
      client,
      keyPrefix,
      name: "g",
      owner: "w1",
      leaseMs: 600,
      heartbeatMs: 50,
      audit: true,
    });
    const run = app.invoke({ input: 1 }, { configurable: { thread_id: "t-lost" } }).catch((e: unknown) => e);
    await waitUntil(
      async () =>
        (await client.hexists(
          runLeaseHoldersKey(keyPrefix, "g", threadBucket("t-lost")),
          runLeaseMember("t-lost", ""),
        )) === 1,
    );
    await client.hset(
      runLeaseHoldersKey(keyPrefix, "g", threadBucket("t-lost")),
      runLeaseMember("t-lost", ""),
      "999999:lease:0:intruder",
    );
    await waitUntil(async () => (await leaseEvents(client, keyPrefix)).some((e) => e.kind === "lease.lost"));
    expect(await run).toBeInstanceOf(RunLeaseLostError);
    const kinds = (await leaseEvents(client, keyPrefix)).map((e) => e.kind);
    expect(kinds).toEqual(["lease.taken", "lease.lost"]);
  });
});

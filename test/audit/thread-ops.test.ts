/**
 * Who removed history: prune (and the retention option's trims inside put), copyThread and deleteForRuns each record
 * one audit event per script call that changed something, in the same script, read back the way the sink reads
 * them (kind, thread, agent, and the counts in the detail); calls that change nothing record none.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import type { CheckpointMetadata } from "@langchain/langgraph-checkpoint";
import { byTime, readOutboxEvents } from "../../src/audit/read-outbox.js";
import type { AuditEvent } from "../../src/audit/trail.js";
import type { RedisClient } from "../../src/client.js";
import { RedisSaver, startAuditSink } from "../../src/index.js";
import { runMarks } from "../../src/inspector/read/activity.js";
import { markSvg } from "../../src/inspector/view/activity-svg.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { loopMetadata, makeCheckpoint } from "../saver/saver-helpers.js";
import { newPool, testSchema } from "./helpers.js";

async function events(client: RedisClient, prefix: string): Promise<AuditEvent[]> {
  const read = await readOutboxEvents(client, prefix, { maxPerStream: 1000 });
  return read.events.sort(byTime);
}

const HISTORY_KINDS = new Set(["prune", "copy", "deleteForRuns"]);

/** The events of the thread operations, with the detail fields that matter. */
async function historyEvents(client: RedisClient, prefix: string) {
  return (await events(client, prefix))
    .filter((event) => HISTORY_KINDS.has(event.kind))
    .map((event) => {
      const { checkpoints, writes, blobs, keepLast, by, runIds, sourceThreadId, operation } = event.detail;
      return {
        kind: event.kind,
        threadId: event.threadId,
        agentId: event.agentId,
        counts: { checkpoints, writes, blobs },
        ...(keepLast === undefined ? {} : { keepLast }),
        ...(by === undefined ? {} : { by }),
        ...(runIds === undefined ? {} : { runIds }),
        ...(sourceThreadId === undefined ? {} : { sourceThreadId }),
        ...(operation === undefined ? {} : { operation }),
      };
    });
}

/** `count` checkpoints in a chain on one thread, each with one pending write, written by run `runId`. */
async function writeChain(saver: RedisSaver, threadId: string, count: number, runId: string): Promise<void> {
  let config: RunnableConfig = { configurable: { thread_id: threadId, checkpoint_ns: "" } };
  for (let step = 0; step < count; step++) {
    const metadata = { ...loopMetadata(step), run_id: runId } as CheckpointMetadata;
    config = await saver.put(config, makeCheckpoint({ n: step }, { n: step + 1 }), metadata, { n: step + 1 });
    await saver.putWrites(config, [["n", step]], `task-${step}`);
  }
}

describe.each(targets)("audit events of thread operations ($name)", ({ connect }) => {
  it("prune, copyThread and deleteForRuns each record what they removed or copied, once", async () => {
    const client = connect();
    const prefix = testPrefix("au-ops");
    const saver = new RedisSaver({ client, keyPrefix: prefix, audit: { agentId: "ops-agent" } });
    await writeChain(saver, "a", 5, "r1");
    await writeChain(saver, "c", 2, "r2");

    expect((await saver.prune(["a"], { keepLast: 1 })).checkpoints).toBe(4);
    expect((await saver.prune(["a"], { keepLast: 1 })).checkpoints).toBe(0); // nothing removed: no event
    expect(await saver.copyThread("a", "b")).toEqual({ checkpoints: 1 });
    expect((await saver.deleteForRuns(["r1"])).checkpoints).toBe(2); // a's and its copy's
    expect((await saver.deleteForRuns(["r1"])).checkpoints).toBe(0);
    expect((await saver.prune(["c"], { strategy: "delete" })).checkpoints).toBe(2);

    const agentId = "ops-agent";
    const seen = await historyEvents(client, prefix);
    const deletes = seen.filter((event) => event.kind === "deleteForRuns");
    expect(seen.filter((event) => event.kind !== "deleteForRuns")).toEqual([
      {
        kind: "prune",
        threadId: "a",
        agentId,
        counts: { checkpoints: 4, writes: 4, blobs: 4 },
        keepLast: 1,
        operation: "RedisSaver.prune",
      },
      {
        kind: "copy",
        threadId: "b",
        agentId,
        counts: { checkpoints: 1, writes: 1, blobs: 1 },
        sourceThreadId: "a",
      },
      {
        kind: "prune",
        threadId: "c",
        agentId,
        counts: { checkpoints: 2, writes: 2, blobs: 2 },
        keepLast: 0,
        operation: "RedisSaver.prune",
      },
    ]);
    expect(deletes.sort((x, y) => String(x.threadId).localeCompare(String(y.threadId)))).toEqual(
      ["a", "b"].map((threadId) => ({
        kind: "deleteForRuns",
        threadId,
        agentId,
        counts: { checkpoints: 1, writes: 1, blobs: 1 },
        runIds: ["r1"],
      })),
    );
  });

  it("the inspector's timeline draws them as marks on the thread's lane, saying what was done", async () => {
    const client = connect();
    const prefix = testPrefix("au-view");
    const saver = new RedisSaver({ client, keyPrefix: prefix, audit: { agentId: "janitor" } });
    await writeChain(saver, "a", 3, "r1");
    await saver.prune(["a"], { keepLast: 2 });
    await saver.copyThread("a", "b");
    await saver.deleteForRuns(["r1"]);
    const marks = runMarks(await events(client, prefix));
    const lane = (threadId: string) =>
      marks.filter((m) => m.threadId === threadId).map((m) => [m.kind, m.by, m.detail]);
    expect(lane("a")).toEqual([
      ["prune", "janitor", "1 checkpoint, 1 pending write, 1 blob removed (keepLast 2)"],
      ["deleteForRuns", "janitor", "2 checkpoints, 2 pending writes, 2 blobs removed for run r1"],
    ]);
    expect(lane("b")).toEqual([
      ["copy", "janitor", '2 checkpoints, 2 pending writes, 2 blobs copied from thread "a"'],
      ["deleteForRuns", "janitor", "2 checkpoints, 2 pending writes, 2 blobs removed for run r1"],
    ]);
    const svg = markSvg(marks[0] as (typeof marks)[number], 10, 10);
    expect(svg).toContain('data-kind="prune"');
    expect(svg).toContain("prune by janitor at ");
    expect(svg).toContain("1 checkpoint, 1 pending write, 1 blob removed (keepLast 2)");
  });

  it("the sink delivers them to PostgreSQL: who removed a thread's history, with what", async () => {
    const client = connect();
    const pool = newPool();
    const schema = testSchema(pool);
    const prefix = testPrefix("au-pg");
    const saver = new RedisSaver({ client, keyPrefix: prefix, audit: { agentId: "janitor" } });
    const sink = startAuditSink({ client, postgres: pool, keyPrefix: prefix, schema, pollIntervalMs: 10 });
    try {
      await sink.ready;
      await writeChain(saver, "a", 4, "r1");
      await saver.prune(["a"], { keepLast: 2 });
      await saver.copyThread("a", "b");
      await saver.deleteForRuns(["r1"]);
      await sink.flush();
      const { rows } = await pool.query(
        `SELECT thread_id, agent_id, kind, detail->>'checkpoints' AS checkpoints FROM "${schema}".audit_events
         WHERE kind IN ('prune', 'copy', 'deleteForRuns') ORDER BY thread_id, entry_ms, entry_seq`,
      );
      expect(rows).toEqual([
        { thread_id: "a", agent_id: "janitor", kind: "prune", checkpoints: "2" },
        { thread_id: "a", agent_id: "janitor", kind: "deleteForRuns", checkpoints: "2" },
        { thread_id: "b", agent_id: "janitor", kind: "copy", checkpoints: "2" },
        { thread_id: "b", agent_id: "janitor", kind: "deleteForRuns", checkpoints: "2" },
      ]);
    } finally {
      await sink.stop();
    }
  });

  it("the retention option's trim inside put records a prune event beside the checkpoint's", async () => {
    const client = connect();
    const prefix = testPrefix("au-ret");
    const saver = new RedisSaver({ client, keyPrefix: prefix, audit: true, retention: { keepLast: 2 } });
    // keepLast 2, slack 4: the sixth checkpoint's put trims the namespace back to 2.
    await writeChain(saver, "r", 6, "run");
    const all = await events(client, prefix);
    expect(all.filter((event) => event.kind === "checkpoint")).toHaveLength(6);
    expect(await historyEvents(client, prefix)).toEqual([
      {
        kind: "prune",
        threadId: "r",
        agentId: undefined,
        counts: { checkpoints: 4, writes: 4, blobs: 4 },
        keepLast: 2,
        by: "retention",
      },
    ]);
    // Same script: the trim's event sits right before the checkpoint's in the stream, with the put's context.
    const trim = all.findIndex((event) => event.kind === "prune");
    expect(all[trim + 1]?.kind).toBe("checkpoint");
    expect(all[trim]?.checkpointId).toBeDefined();
    expect(all[trim + 1]?.checkpointId).toBe(all[trim]?.checkpointId);
  });
});

/**
 * `npm run demo -- --outage`: agents keep working through a Redis outage on their offline journals.
 *
 * The demo starts its own throwaway redis-server (AOF on), and four agents, each with a RedisSaver whose `offline`
 * option points at a journal directory of its own, keep running LangGraph runs on their threads. Mid-run the demo
 * kills the redis-server by its pid (SIGKILL), lets the agents go on for a while, and starts it again. Then it reads
 * back every checkpoint and every task write the agents were acknowledged and prints how many runs failed, how many
 * writes were lost and how many were applied twice (all three must be 0; the exit code says so).
 *
 * It refuses to run against a REDIS_URL it did not start: killing a server by pid is only for a throwaway one.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunnableConfig } from "@langchain/core/runnables";
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import type { ChannelVersions, Checkpoint, CheckpointMetadata, PendingWrite } from "@langchain/langgraph-checkpoint";
import { Redis } from "ioredis";
import { startRestartableRedis } from "../scripts/local-redis.js";
import { RedisSaver } from "../src/index.js";

const AGENTS = 4;
const THREADS_PER_AGENT = 3;

interface Acked {
  readonly thread: string;
  readonly checkpointId: string;
}

/** A RedisSaver that remembers what it acknowledged (checkpoints and task writes), to check it after the outage. */
class RecordingSaver extends RedisSaver {
  readonly puts: Acked[] = [];
  readonly writes: (Acked & { taskId: string; channels: string[] })[] = [];
  override async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions,
  ): Promise<RunnableConfig> {
    const stored = await super.put(config, checkpoint, metadata, newVersions);
    this.puts.push({ thread: String(config.configurable?.thread_id), checkpointId: checkpoint.id });
    return stored;
  }
  override async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath?: string) {
    await super.putWrites(config, writes, taskId, taskPath);
    this.writes.push({
      thread: String(config.configurable?.thread_id),
      checkpointId: String(config.configurable?.checkpoint_id),
      taskId,
      channels: writes.map(([channel]) => String(channel)),
    });
  }
}

const State = Annotation.Root({
  log: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

function agentGraph(saver: RedisSaver, agent: string) {
  const step = (name: string, pauseMs: number) => async (state: typeof State.State) => {
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    return { log: [`${agent}:${name}:${state.log.length}`] };
  };
  return new StateGraph(State)
    .addNode("read", step("read", 20))
    .addNode("decide", step("decide", 40))
    .addNode("act", step("act", 20))
    .addEdge(START, "read")
    .addEdge("read", "decide")
    .addEdge("decide", "act")
    .addEdge("act", END)
    .compile({ checkpointer: saver });
}

export async function runOutageDemo(options: { quick: boolean; ownsRedis: boolean }): Promise<number> {
  const say = (line: string) => console.log(line);
  if (!options.ownsRedis) {
    console.error(
      "--outage kills the Redis server by its pid and starts it again, so it only runs on a throwaway server the " +
        "demo starts itself. REDIS_URL points at a server it did not start: unset REDIS_URL and run " +
        "`npm run demo -- --outage`.",
    );
    return 2;
  }
  const beforeMs = options.quick ? 2000 : 5000;
  const outageMs = options.quick ? 3000 : 10_000;
  const afterMs = options.quick ? 2000 : 4000;
  const server = await startRestartableRedis({ args: ["--appendonly", "yes", "--appendfsync", "always"] });
  const dirs: string[] = [];
  const clients: Redis[] = [];
  const savers: RecordingSaver[] = [];
  try {
    say(`offline journal demo: ${AGENTS} agents, ${THREADS_PER_AGENT} threads each, redis-server pid ${server.pid}`);
    let stopping = false;
    const runs = { done: 0, failed: 0, failures: [] as string[] };
    const agents = Array.from({ length: AGENTS }, async (_, index) => {
      const agent = `agent-${index + 1}`;
      const dir = mkdtempSync(join(tmpdir(), `lgr-demo-journal-${agent}-`));
      dirs.push(dir);
      const client = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 200 });
      client.on("error", () => undefined);
      clients.push(client);
      const saver = new RecordingSaver({
        client,
        keyPrefix: "outage-demo",
        offline: { journalDir: dir, probeIntervalMs: 250, unreachableAfterMs: 2000 },
      });
      savers.push(saver);
      saver
        .on("offline", () => say(`  ${agent}: Redis unreachable, writing to its journal`))
        .on("online", (result) =>
          say(
            `  ${agent}: Redis is back, journal replayed (${result.applied} records, ` +
              `${result.conflicts.length} conflicts, ${result.rejected.length} rejected)`,
          ),
        )
        .on("conflict", (conflict) => say(`  ${agent}: CONFLICT ${JSON.stringify(conflict)}`));
      const graph = agentGraph(saver, agent);
      for (let run = 0; !stopping; run++) {
        const thread = `${agent}-thread-${run % THREADS_PER_AGENT}`;
        try {
          await graph.invoke({ log: [`${agent}:input:${run}`] }, { configurable: { thread_id: thread } });
          runs.done++;
        } catch (error) {
          runs.failed++;
          runs.failures.push(`${agent} ${thread}: ${(error as Error).name}: ${(error as Error).message}`);
        }
      }
    });

    const progress = (label: string) =>
      say(
        `  [${label}] runs done ${runs.done}, failed ${runs.failed}; agents ` +
          savers.map((saver) => `${saver.offlineState}(${saver.offlinePendingRecords})`).join(" "),
      );
    await new Promise((resolve) => setTimeout(resolve, beforeMs));
    progress("before");
    say(`killing redis-server pid ${server.pid} (SIGKILL)`);
    await server.kill("SIGKILL");
    const outageEnds = Date.now() + outageMs;
    while (Date.now() < outageEnds) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, outageEnds - Date.now())));
      progress("Redis down");
    }
    say("starting redis-server again (it loads its AOF)");
    await server.start();
    say(`redis-server is back, pid ${server.pid}`);
    await new Promise((resolve) => setTimeout(resolve, afterMs));
    stopping = true;
    await Promise.all(agents);
    // every agent's journal must be replayed before the check
    const deadline = Date.now() + 60_000;
    while (savers.some((saver) => saver.offlineState !== "online" || saver.offlinePendingRecords > 0)) {
      if (Date.now() > deadline) throw new Error("the journals were not replayed within 60 s");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    progress("after");

    // Read back everything the agents were acknowledged, through a client of its own.
    const reader = new Redis(server.url, { maxRetriesPerRequest: 1 });
    clients.push(reader);
    const check = new RedisSaver({ client: reader, keyPrefix: "outage-demo" });
    let checkpoints = 0;
    let writes = 0;
    let lost = 0;
    let twice = 0;
    for (const saver of savers) {
      for (const ack of saver.puts) {
        checkpoints++;
        const tuple = await check.getTuple({
          configurable: { thread_id: ack.thread, checkpoint_ns: "", checkpoint_id: ack.checkpointId },
        });
        if (tuple === undefined) lost++;
      }
      for (const ack of saver.writes) {
        writes++;
        const tuple = await check.getTuple({
          configurable: { thread_id: ack.thread, checkpoint_ns: "", checkpoint_id: ack.checkpointId },
        });
        const stored = (tuple?.pendingWrites ?? []).filter(([taskId]) => taskId === ack.taskId);
        if (stored.length < ack.channels.length) lost++;
        if (stored.length > ack.channels.length) twice++;
      }
    }
    // A step applied twice would show in the threads' state: each entry of the log is unique.
    for (let index = 1; index <= AGENTS; index++) {
      for (let thread = 0; thread < THREADS_PER_AGENT; thread++) {
        const tuple = await check.getTuple({ configurable: { thread_id: `agent-${index}-thread-${thread}` } });
        const log = (tuple?.checkpoint.channel_values as { log?: string[] } | undefined)?.log ?? [];
        twice += log.length - new Set(log).size;
      }
    }
    say("");
    say(`checked ${checkpoints} checkpoints and ${writes} task writes acknowledged to ${AGENTS} agents`);
    say(`  outage: ${outageMs / 1000} s; runs completed: ${runs.done}`);
    say(`  runs failed: ${runs.failed}`);
    say(`  writes lost: ${lost}`);
    say(`  applied twice: ${twice}`);
    for (const failure of runs.failures.slice(0, 5)) say(`  failure: ${failure}`);
    return runs.failed === 0 && lost === 0 && twice === 0 ? 0 : 1;
  } finally {
    for (const saver of savers) await saver.close();
    for (const client of clients) client.disconnect();
    await server.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

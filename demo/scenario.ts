/**
 * One run of the scenario in one setup: start the agent processes, publish the order stream, kill one payment
 * worker mid-way with SIGKILL, wait until every event's runs have finished, stop the processes and collect the
 * result from what they recorded in Redis. Everything the run writes lives under its own random prefix and is
 * deleted at the end.
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { startDemoAudit } from "./audit.js";
import { deleteDemoKeys, sweepPrefix } from "./cleanup.js";
import { closeClient, connect } from "./connect.js";
import { createObserver } from "./create-runtime.js";
import { DemoKeys } from "./keys.js";
import type { DemoOptions, SetupName } from "./options.js";
import { agents, createOrderStream, eventSchedule, generateOrders, publishEvent, threadId } from "./orders.js";
import { type ProcessConfig, startProcess, waitForExit } from "./processes.js";
import { Recorder } from "./recording.js";
import { collectResult, type SetupResult } from "./report.js";
import { writeTimeline } from "./timeline.js";

export function setupLabel(setup: SetupName, guard: boolean): string {
  if (setup === "naive") return "without the layer";
  return guard ? "with langgraph-redis" : "with langgraph-redis, guard off";
}

export async function runScenario(
  setup: SetupName,
  options: DemoOptions,
  redisUrl: string,
  say: (line: string) => void,
  signal: AbortSignal,
  postgresUrl?: string,
): Promise<SetupResult> {
  const prefix = `lgr-demo-${randomBytes(4).toString("hex")}`;
  const keys = new DemoKeys(prefix);
  const client = connect(redisUrl);
  const recorder = new Recorder(client, keys, "orchestrator");
  const observer = await createObserver(setup, client, prefix);
  const guard = setup === "layer" && options.guard;
  const orders = generateOrders(options.orders, options.customers, options.seed);
  const schedule = eventSchedule(orders, options.ratePerSec, options.duplicateRate, options.seed);
  const threads = schedule.length * 2;

  const audit = setup === "layer" && postgresUrl ? startDemoAudit(client, prefix, postgresUrl) : undefined;
  const configs: ProcessConfig[] = [];
  // --keep: the layer's processes also write audit events without --audit (no sink: they stay in the outbox
  // streams the kept keys include), so the timeline page can draw lock holds, waits, crashes and resumes.
  const audited = audit !== undefined || (options.keep && setup === "layer");
  const base = { setup, prefix, redisUrl, concurrency: options.concurrency, guard, audit: audited };
  for (let i = 1; i <= options.fraudWorkers; i++) {
    configs.push({ ...base, role: "worker", agent: "fraud", workerId: `fraud-${i}` });
  }
  for (let i = 1; i <= options.paymentWorkers; i++) {
    configs.push({ ...base, role: "worker", agent: "payment", workerId: `payment-${i}` });
  }
  configs.push({ ...base, role: "recoverer", workerId: "recoverer" });
  const victimId = `payment-${options.paymentWorkers}`;

  const children = new Map<string, ChildProcess>();
  const started = Date.now();
  const clock = () => `[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s]`;
  let progress: NodeJS.Timeout | undefined;
  try {
    await createOrderStream(client, keys);
    for (const config of configs) children.set(config.workerId, startProcess(config));
    say(
      `${clock()} started ${options.fraudWorkers} fraud agents, ${options.paymentWorkers} payment agents and a ` +
        `recoverer (pids ${[...children.values()].map((c) => c.pid).join(", ")})`,
    );
    await waitForWorkers(client, keys, children, configs.length, signal);
    say(`${clock()} all processes ready; publishing ${schedule.length} order events`);

    let published = 0;
    let killed = false;
    let lastTakeovers = 0;
    const killAtEvent = Math.floor(schedule.length * options.killAt);
    progress = setInterval(() => {
      void (async () => {
        const [done, inFlight, takeovers] = await Promise.all([
          client.scard(keys.done),
          client.hvals(keys.inFlight),
          client.llen(keys.record("takeover")),
        ]);
        const running = inFlight.reduce((sum, n) => sum + Math.max(0, Number(n)), 0);
        say(
          `${clock()} orders published ${published}/${schedule.length} · runs finished ${done}/${threads} · ` +
            `in flight ${running}`,
        );
        if (takeovers > lastTakeovers) {
          say(`${clock()} recoverer took over ${takeovers} runs of ${victimId}`);
          lastTakeovers = takeovers;
        }
      })().catch(() => {});
    }, 1000);

    const publishStart = Date.now();
    let killTask: Promise<void> | undefined;
    for (const { atMs, event } of schedule) {
      signal.throwIfAborted();
      const wait = publishStart + atMs - Date.now();
      if (wait > 0) await sleep(wait);
      await publishEvent(client, keys, event);
      published++;
      if (!killed && published >= killAtEvent) {
        killed = true;
        killTask = killWorker(client, keys, recorder, children, victimId, (line) => say(`${clock()} ${line}`));
      }
    }
    await killTask;
    say(`${clock()} all ${schedule.length} order events published (${orders.length} orders, the rest duplicates)`);

    const deadline = Date.now() + options.drainTimeoutMs;
    while ((await client.scard(keys.done)) < threads && Date.now() < deadline) {
      signal.throwIfAborted();
      await sleep(200);
    }
    clearInterval(progress);
    const finished = await client.scard(keys.done);
    const elapsedMs = Date.now() - started;
    say(`${clock()} ${finished}/${threads} runs finished; stopping the agents`);

    await client.set(keys.stop, "1");
    await Promise.all([...children.values()].map((child) => waitForExit(child, 15_000)));
    await recorder.close();
    await audit?.report(say);
    return await collectResult({
      client,
      keys,
      setup,
      label: setupLabel(setup, guard),
      mustBeClean: setup === "layer",
      orders,
      threads,
      threadIds: schedule.flatMap(({ event }) => agents.map((agent) => threadId(agent, event.eventId))),
      state: observer.state,
      elapsedMs,
    });
  } finally {
    clearInterval(progress);
    for (const child of children.values()) {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid, "SIGKILL");
      }
    }
    if (options.keep) {
      say(`${clock()} kept every key of this run: prefix ${prefix}`);
      if (setup === "layer") {
        const orderOf = new Map(
          schedule.flatMap(({ event }) =>
            agents.map((agent) => [threadId(agent, event.eventId), event.order.orderId] as const),
          ),
        );
        const history = audit && postgresUrl ? { postgresUrl, schema: audit.schema } : undefined;
        const page = await writeTimeline(client, keys, redisUrl, prefix, orderOf, history).catch((error: Error) => ({
          command: "",
          error: error.message,
        }));
        if ("file" in page && page.file) say(`${clock()} timeline of resumed runs: ${pathToFileURL(page.file).href}`);
        else say(`${clock()} timeline not drawn: ${page.error}`);
        if (page.command) say(`${clock()} redraw it while the keys are in Redis: ${page.command}`);
      }
    } else {
      await observer.cleanup(schedule, orders).catch((error: Error) => say(`cleanup: ${error.message}`));
      await deleteDemoKeys(client, keys, [...children.keys()]);
      await sweepPrefix(client, prefix);
      say(`${clock()} removed every key of this run (prefix ${prefix})`);
    }
    await audit?.close(options.keep).catch((error: Error) => say(`audit: ${error.message}`));
    await observer.close();
    await closeClient(client);
  }
}

async function waitForWorkers(
  client: ReturnType<typeof connect>,
  keys: DemoKeys,
  children: Map<string, ChildProcess>,
  expected: number,
  signal: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await client.hlen(keys.workers)) < expected) {
    signal.throwIfAborted();
    for (const [id, child] of children) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${id} exited during start-up`);
    }
    if (Date.now() > deadline) throw new Error("agent processes did not start within 60 s");
    await sleep(100);
  }
}

/** Kills the victim by pid with SIGKILL, preferably while it has three or more runs in flight. */
async function killWorker(
  client: ReturnType<typeof connect>,
  keys: DemoKeys,
  recorder: Recorder,
  children: Map<string, ChildProcess>,
  victimId: string,
  say: (line: string) => void,
): Promise<void> {
  const victim = children.get(victimId);
  if (!victim?.pid) throw new Error(`no process ${victimId} to kill`);
  // Prefer three runs in flight, settle for one after 3 s; on a busy machine the victim may take far longer to
  // start any, and a kill with none in flight shows no recovery at all, so wait (bounded) for at least one.
  const started = Date.now();
  let inFlight = 0;
  for (;;) {
    inFlight = Number((await client.hget(keys.inFlight, victimId)) ?? 0);
    const waited = Date.now() - started;
    if (inFlight >= 3 || (inFlight >= 1 && waited > 3000) || waited > 60_000) break;
    await sleep(20);
  }
  process.kill(victim.pid, "SIGKILL");
  await recorder.record("kill", { worker: victimId, pid: victim.pid, inFlight });
  // Its counter can no longer go down; the progress line counts live processes only.
  await client.hdel(keys.inFlight, victimId);
  say(`SIGKILL ${victimId} (pid ${victim.pid}) with ${inFlight} runs in flight`);
}

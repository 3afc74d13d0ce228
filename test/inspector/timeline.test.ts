/**
 * Lock holds, waits, crashes and resumes on the `view` timeline, from audit events written by real graphs: two
 * agents contend for one order's lock (the second waits), a payment agent process is killed by pid while it holds
 * another order's lock and its run lease, and a recoverer resumes its run (waiting for the dead holder's lock to
 * expire). The data part runs on a standalone server and on a cluster; the page is opened in headless chromium.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { inject } from "vitest";
import { startAuditSink } from "../../src/audit/sink.js";
import type { RedisClient } from "../../src/client.js";
import { LockLostError } from "../../src/errors.js";
import { EXIT } from "../../src/inspector/errors.js";
import type { LockHold, RunMark, ViewActivity } from "../../src/inspector/read/activity.js";
import { lockKey } from "../../src/keys.js";
import { resumeCrashedRuns } from "../../src/recovery/resume-crashed-runs.js";
import { newPool, postgresUrl, testSchema } from "../audit/helpers.js";
import { type Child, startChild, stopAll } from "../helpers/child-process.js";
import { newCluster, newRedis, redisUrl, testPrefix } from "../helpers/redis.js";
import { gate, waitUntil } from "../recovery/helpers.js";
import { orderGraph } from "./audited-graph.js";
import { ARTIFACTS, loadPage, openBrowser } from "./browser.js";
import { runCli } from "./run-cli.js";

// The dead holder's lock outlives its run lease by seconds, so the resumed run finds it still held and waits.
const LOCK_TIMEOUT_MS = 10_000;
const LEASE_MS = 3000;

interface Story {
  readonly paidA: string;
  readonly paidB: string;
  readonly crashed: string;
  /** The pid of the payment agent process that was killed. */
  readonly killedPid: number;
}

/** Writes the story through the public API and real processes; see the file comment. */
async function writeStory(client: RedisClient, keyPrefix: string, url: string): Promise<Story> {
  const story = { paidA: "paid-a", paidB: "paid-b", crashed: "crash-7" };

  // Contention: payment-a holds order o-9 until payment-b has found it held, so payment-b's wait is real.
  let bConflicted = false;
  const aHolding = gate();
  const a = orderGraph({
    client,
    keyPrefix,
    agentId: "payment-a",
    onPayment: async () => {
      aHolding.open();
      await waitUntil(() => bConflicted, 10);
    },
  });
  const b = orderGraph({
    client,
    keyPrefix,
    agentId: "payment-b",
    events: {
      onConflict: () => {
        bConflicted = true;
      },
    },
  });
  const runA = a.invoke({ orderId: "o-9" }, { configurable: { thread_id: story.paidA } });
  await aHolding.opened;
  await b.invoke({ orderId: "o-9" }, { configurable: { thread_id: story.paidB } });
  await runA;

  // A crash: the payment agent process dies holding order o-7's lock and its run lease; a recoverer resumes it.
  let worker: Child | undefined;
  try {
    worker = startChild([
      ...["--import", "tsx", join("test", "inspector", "programs", "payment-worker.ts")],
      ...[url, keyPrefix, story.crashed, "o-7", "payment-dead", String(LOCK_TIMEOUT_MS), String(LEASE_MS)],
    ]);
    await worker.waitForLine(/^HOLDING \d+$/);
    worker.kill("SIGKILL");
    const exit = await worker.exited;
    expect(exit.signal).toBe("SIGKILL");
  } finally {
    await stopAll();
  }
  const recoverer = orderGraph({ client, keyPrefix, agentId: "recoverer", lockTimeoutMs: LOCK_TIMEOUT_MS });
  let resumed = 0;
  // The dead process's lease expires LEASE_MS after its last heartbeat: poll until the recoverer finds the run.
  await waitUntil(async () => {
    resumed += (await resumeCrashedRuns(recoverer)).resumed;
    return resumed > 0;
  }, 100);
  expect(resumed).toBe(1);
  return { ...story, killedPid: worker.pid };
}

interface ViewJson {
  url: string;
  threads: { threadId: string; checkpoints: number }[];
  locks: { name: string; fenceCounter: number }[];
  activity: ViewActivity;
}

const targets = [
  { name: "standalone", connect: newRedis, url: () => redisUrl() },
  { name: "cluster", connect: newCluster, url: () => `redis+cluster://${inject("clusterNodes")}` },
] as const;

describe.each(targets)("timeline history on $name", ({ name, connect, url }) => {
  let prefix: string;
  let story: Story;
  let client: RedisClient;

  beforeAll(async () => {
    client = connect();
    prefix = testPrefix("tl");
    story = await writeStory(client, prefix, url());
  });

  const view = async (...extra: string[]) => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const out = join(ARTIFACTS, `timeline-${name}.html`);
    const threads = [story.paidA, story.paidB, story.crashed];
    const run = await runCli([
      "--url",
      url(),
      "--prefix",
      prefix,
      "--quiet",
      "view",
      ...threads,
      "--out",
      out,
      ...extra,
    ]);
    expect(run.code, run.stderr).toBe(EXIT.ok);
    return run;
  };

  it("view --json: holds of both locks with holders, the wait, the dead holder's open hold, crash and resume", async () => {
    const data = (await view("--json")).json<ViewJson>();
    expect(data.activity.source).toBe("audit");
    expect(data.activity.outboxStreams).toBeGreaterThan(0);
    const holds = (lock: string) => data.activity.holds.filter((h) => h.lock === lock);

    const o9 = holds("order:o-9");
    expect(o9.map((h) => [h.holder, h.threadId, h.end])).toEqual([
      ["payment-a", story.paidA, "released"],
      ["payment-b", story.paidB, "released"],
    ]);
    const [first, second] = o9 as [LockHold, LockHold];
    expect(first.waitFromMs).toBeUndefined();
    // payment-b started waiting while payment-a held the lock, and got it once payment-a released it.
    expect(second.waitFromMs).toBeLessThan(first.endAtMs as number);
    expect(second.acquiredAtMs).toBeGreaterThanOrEqual(first.endAtMs as number);
    expect(second.token).toBeGreaterThan(first.token as number);

    const o7 = holds("order:o-7");
    expect(o7.map((h) => [h.holder, h.threadId, h.end])).toEqual([
      ["payment-dead", story.crashed, "open"],
      ["recoverer", story.crashed, "released"],
    ]);
    // The recoverer's resume waited for the dead holder's lock to expire.
    expect(o7[1]?.waitFromMs).toBeLessThan(o7[1]?.acquiredAtMs as number);

    const marks = data.activity.marks.map((m) => [m.kind, m.threadId, m.by, m.crashedHolder ?? null]);
    expect(marks).toEqual([
      ["crash", story.crashed, "recoverer", "payment-dead"],
      ["resume", story.crashed, "recoverer", null],
    ]);
    const crash = data.activity.marks[0] as RunMark;
    expect(crash.atMs).toBeGreaterThan(o7[0]?.acquiredAtMs as number);
    expect(crash.atMs).toBeLessThan(o7[1]?.acquiredAtMs as number);
  });

  it("a lock held now is a hold that ends now, the same lock `locks --json` lists with its fence counter", async () => {
    const holding = gate();
    const release = gate();
    const graph = orderGraph({
      client,
      keyPrefix: prefix,
      agentId: "payment-c",
      onPayment: async () => {
        holding.open();
        await release.opened;
      },
    });
    const run = graph.invoke({ orderId: "o-5" }, { configurable: { thread_id: "held-5" } });
    try {
      await holding.opened;
      const locks = await runCli(["--url", url(), "--prefix", prefix, "locks", "--json"]);
      const held = locks.json<{ locks: { name: string; fenceCounter: number }[] }>().locks;
      expect(held.map((l) => l.name)).toEqual(["order:o-5"]);
      const data = (await view("held-5", "--json")).json<ViewJson>();
      expect(data.locks).toEqual([expect.objectContaining({ name: "order:o-5", fenceCounter: held[0]?.fenceCounter })]);
      const now = data.activity.holds.filter((h) => h.end === "held");
      expect(now).toEqual([
        expect.objectContaining({
          lock: "order:o-5",
          holder: "payment-c",
          threadId: "held-5",
          token: held[0]?.fenceCounter,
        }),
      ]);
    } finally {
      release.open();
      await run;
    }
  });

  it("a lock lost while its node runs is a hold that ends in lost", async () => {
    const graph = orderGraph({
      client,
      keyPrefix: prefix,
      agentId: "payment-l",
      lockTimeoutMs: 1000,
      onPayment: async (_orderId, signal) => {
        // Someone else's hand on the lock: it is gone, the next refresh finds out and the node is aborted.
        await client.del(lockKey(prefix, "order:o-3"));
        await new Promise((resolve) => signal?.addEventListener("abort", resolve, { once: true }));
      },
    });
    const run = graph.invoke({ orderId: "o-3" }, { configurable: { thread_id: "lost-3" } });
    await expect(run).rejects.toBeInstanceOf(LockLostError);
    // lock.lost is recorded in the background once the loss is noticed: poll (bounded) until it is there.
    let hold: LockHold | undefined;
    await waitUntil(async () => {
      const data = (await view("lost-3", "--json")).json<ViewJson>();
      hold = data.activity.holds.find((h) => h.lock === "order:o-3");
      return hold?.end === "lost";
    }, 100);
    expect(hold).toMatchObject({ holder: "payment-l", threadId: "lost-3", end: "lost" });
  });

  // The page and the PostgreSQL read are registered for the standalone story only: what they draw is the --json
  // data the tests above check on both.
  const onStandalone = name === "standalone" ? it : () => undefined;
  onStandalone(
    "the page in headless chromium: lock holds with their holders, the waits, crash and resume marks on the lane",
    async () => {
      const browser = await openBrowser();
      try {
        mkdirSync(ARTIFACTS, { recursive: true });
        const out = join(ARTIFACTS, "timeline.html");
        const run = await runCli([
          ...["--url", redisUrl(), "--prefix", prefix, "--quiet", "view", story.paidA, story.paidB, story.crashed],
          ...["--item", "orders.o-9/status", "--out", out, "--json"],
        ]);
        expect(run.code, run.stderr).toBe(EXIT.ok);
        const { page, problems } = await loadPage(browser.context, run.json<{ url: string }>().url);
        expect(await page.$$eval("svg g.item-version", (n) => n.map((v) => v.getAttribute("data-writer")))).toEqual([
          "payment-a",
          "payment-b",
        ]);

        const holds = await page.$$eval("svg g.lock-hold", (nodes) =>
          nodes.map((n) => [n.getAttribute("data-lock"), n.getAttribute("data-holder"), n.getAttribute("data-end")]),
        );
        expect(holds).toEqual([
          ["order:o-7", "payment-dead", "open"],
          ["order:o-7", "recoverer", "released"],
          ["order:o-9", "payment-a", "released"],
          ["order:o-9", "payment-b", "released"],
        ]);
        const waits = await page.$$eval("svg rect.lock-wait", (nodes) =>
          nodes.map((n) => n.getAttribute("data-holder")),
        );
        expect(waits.sort()).toEqual(["payment-b", "recoverer"]);
        // The holder is labelled: in the bar where it fits, always in the bar's tooltip.
        const titles = await page.$$eval("svg g.lock-hold > title", (nodes) => nodes.map((n) => n.textContent ?? ""));
        expect(titles.filter((t) => t.includes("held by payment-b") && t.includes("waited"))).toHaveLength(1);

        // Bars and marks share the checkpoints' time axis: the crash mark sits between the dead holder's hold and the
        // recoverer's, and the resumed run's last checkpoint is right of the resume mark.
        const box = async (selector: string) => {
          const rect = await page.$eval(selector, (n) => n.getBoundingClientRect().toJSON());
          return rect as { x: number; width: number };
        };
        const crash = await box(`svg g.run-mark.crash[data-thread-id="${story.crashed}"] line`);
        const resume = await box(`svg g.run-mark.resume[data-thread-id="${story.crashed}"] line`);
        const dead = await box('svg g.lock-hold[data-holder="payment-dead"] rect');
        const recovered = await box('svg g.lock-hold[data-holder="recoverer"] rect:not(.lock-wait)');
        expect(crash.x).toBeGreaterThan(dead.x);
        expect(crash.x).toBeLessThanOrEqual(resume.x);
        expect(resume.x).toBeLessThan(recovered.x);
        const lastCheckpointX = Math.max(
          ...(await page.$$eval(`svg g.checkpoint[data-thread-id="${story.crashed}"] circle`, (nodes) =>
            nodes.map((n) => n.getBoundingClientRect().x),
          )),
        );
        expect(lastCheckpointX).toBeGreaterThan(resume.x);

        expect(await page.getAttribute("#history-note", "data-source")).toBe("audit");
        expect(await page.$$eval("table.holds tr.hold-row", (n) => n.length)).toBe(4);
        expect(await page.$$eval("table.marks tr.mark-row", (n) => n.map((r) => r.getAttribute("data-kind")))).toEqual([
          "crash",
          "resume",
        ]);
        const shot = join(ARTIFACTS, "timeline.png");
        await page.screenshot({ path: shot, fullPage: true });
        expect(existsSync(shot)).toBe(true);
        // The picture in docs/inspector.md is this file: the page down to the end of the timeline.
        const timeline = await page.$eval("#timeline-box", (n) => n.getBoundingClientRect().toJSON());
        const top = join(ARTIFACTS, "timeline-top.png");
        await page.screenshot({
          path: top,
          clip: {
            x: 0,
            y: 0,
            width: Math.ceil(timeline.x + timeline.width + 16),
            height: Math.ceil(timeline.bottom + 12),
          },
        });
        expect(existsSync(top)).toBe(true);
        expect(problems).toEqual([]);
        await page.close();
      } finally {
        await browser.close();
      }
    },
  );

  // Last: the sink moves every event out of the outbox streams.
  onStandalone("with --postgres, the same holds and marks once a sink has moved the events out of Redis", async () => {
    const out = join(ARTIFACTS, "timeline-postgres.html");
    mkdirSync(ARTIFACTS, { recursive: true });
    const activity = async (...extra: string[]) => {
      const run = await runCli([
        ...["--url", redisUrl(), "--prefix", prefix, "--quiet", "view", story.paidA, story.paidB, story.crashed],
        ...["--out", out, "--json", ...extra],
      ]);
      expect(run.code, run.stderr).toBe(EXIT.ok);
      return run.json<ViewJson>().activity;
    };
    const before = await activity();
    expect(before.holds).toHaveLength(4);

    const pool = newPool();
    const schema = testSchema(pool);
    const sink = startAuditSink({ client, postgres: pool, keyPrefix: prefix, schema, pollIntervalMs: 20 });
    try {
      await sink.flush(30_000);
    } finally {
      await sink.stop();
    }
    const drained = await activity();
    expect(drained).toMatchObject({ source: "audit", outboxEvents: 0, holds: [], marks: [] });

    const fromPostgres = await activity("--postgres", postgresUrl(), "--schema", schema);
    expect(fromPostgres.postgresEvents).toBeGreaterThan(0);
    expect(fromPostgres.holds).toEqual(before.holds);
    expect(fromPostgres.marks).toEqual(before.marks);

    const wrongSchema = await runCli([
      ...["--url", redisUrl(), "--prefix", prefix, "view", story.crashed, "--out", out],
      ...["--postgres", postgresUrl(), "--schema", "Not-A-Schema"],
    ]);
    expect(wrongSchema.code).toBe(EXIT.usage);
    expect(wrongSchema.stderr).toContain("--schema");
  });
});

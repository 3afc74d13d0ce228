/**
 * The demo (`npm run demo`) end to end, in its short configuration, against the suite's standalone server (and once
 * through a `redis+sentinel://` URL, against a master and sentinel of its own): its agents are real processes, one
 * of them killed with SIGKILL. With the layer the conflict columns must read 0 and the exit code 0; with guarded()
 * switched off the same scenario must show conflicts and exit non-zero, which is what makes the zeros mean something.
 */
import { execFile } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import pg from "pg";
import { inject } from "vitest";
import { sweepPrefix } from "../../demo/cleanup.js";
import { startRedis, startSentinels } from "../../scripts/local-redis.js";
import type { ViewActivity } from "../../src/inspector/read/activity.js";

const root = join(import.meta.dirname, "..", "..");
const tsx = join(root, "node_modules", ".bin", "tsx");

interface DemoRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function runDemo(args: readonly string[], redisUrl: string = inject("redisUrl")): Promise<DemoRun> {
  return new Promise((resolve) => {
    execFile(
      tsx,
      [join("demo", "main.ts"), "--quick", ...args],
      {
        cwd: root,
        env: { ...process.env, REDIS_URL: redisUrl, POSTGRES_URL: inject("postgresUrl") },
        timeout: 110_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

interface Row {
  readonly orders: number;
  readonly doubleProcessed: number;
  readonly flaggedApprovals: number;
  readonly lostWrites: number;
  readonly resumed: number;
  readonly crashed: number;
  readonly putMs: string;
  readonly lockWaitMs: string;
}

/** Reads the printed table: the rows between the dashed rule and the first blank line, keyed by their label. */
function parseTable(stdout: string): Map<string, Row> {
  const lines = stdout.split("\n");
  const rule = lines.findIndex((line) => /^-+( +-+){7}$/.test(line));
  expect(rule, `no table in the output:\n${stdout}`).toBeGreaterThan(0);
  const rows = new Map<string, Row>();
  for (const line of lines.slice(rule + 1)) {
    if (line.trim() === "") break;
    const [label = "", orders, double, flagged, lost, resumed = "", put = "", lockWait = ""] = line.split(/ {2,}/);
    const [done, , crashed] = resumed.split(" ");
    rows.set(label, {
      orders: Number(orders),
      doubleProcessed: Number(double),
      flaggedApprovals: Number(flagged),
      lostWrites: Number(lost),
      resumed: Number(done),
      crashed: Number(crashed),
      putMs: put,
      lockWaitMs: lockWait,
    });
  }
  return rows;
}

describe("npm run demo", () => {
  it("with the layer: every conflict column is 0, every crashed run is resumed, exit code 0", {
    timeout: 120_000,
  }, async () => {
    expectLayerHolds(await runDemo([]));
  });

  it("on Sentinel (a redis+sentinel:// REDIS_URL): the same zeros, every crashed run resumed", {
    timeout: 150_000,
  }, async () => {
    const master = await startRedis();
    const sentinels = await startSentinels(master.port, 0, 1);
    try {
      expectLayerHolds(await runDemo([], `redis+sentinel://127.0.0.1:${sentinels.ports[0]}/${sentinels.name}`));
    } finally {
      await sentinels.stop();
      await master.stop();
    }
  });

  /** The layer's row reads 0 in every conflict column with every crashed run resumed; the naive row goes wrong. */
  function expectLayerHolds(run: DemoRun): void {
    const rows = parseTable(run.stdout);
    const layer = rows.get("with langgraph-redis");
    const naive = rows.get("without the layer");
    expect(layer, run.stdout).toBeDefined();
    expect(naive, run.stdout).toBeDefined();
    expect(layer).toMatchObject({ orders: 60, doubleProcessed: 0, flaggedApprovals: 0, lostWrites: 0 });
    expect(layer?.crashed).toBeGreaterThan(0);
    expect(layer?.resumed).toBe(layer?.crashed);
    expect(layer?.putMs).toMatch(/^[\d.]+ \/ [\d.]+$/);
    expect(layer?.lockWaitMs).toMatch(/^[\d.]+ \/ [\d.]+$/);
    // Without the layer the same orders go wrong, and nothing is resumed.
    expect((naive?.doubleProcessed ?? 0) + (naive?.flaggedApprovals ?? 0) + (naive?.lostWrites ?? 0)).toBeGreaterThan(
      0,
    );
    expect(naive?.resumed).toBe(0);
    expect(naive?.lockWaitMs).toBe("no locks");
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
  }

  it("with guarded() switched off: conflicts appear and the exit code is non-zero", { timeout: 120_000 }, async () => {
    const run = await runDemo(["--no-guard", "--only", "layer"]);
    const row = parseTable(run.stdout).get("with langgraph-redis, guard off");
    expect(row, run.stdout).toBeDefined();
    expect((row?.doubleProcessed ?? 0) + (row?.flaggedApprovals ?? 0)).toBeGreaterThan(0);
    expect(run.stdout).toContain("FAIL");
    expect(run.code).toBe(1);
  });

  it("--audit --keep: one order's trail from PostgreSQL tells its story in order; the page draws locks and crashes", {
    timeout: 120_000,
  }, async () => {
    const run = await runDemo(["--only", "layer", "--audit", "--keep"]);
    const prefix = /kept every key of this run: prefix (\S+)/.exec(run.stdout)?.[1];
    try {
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
      checkTrail(run);
      checkTimelinePage(run);
    } finally {
      await removeKept(prefix);
    }
  });
});

/** The page --keep leaves: the resumed runs' crash and resume marks and their order locks' holds, from the audit. */
function checkTimelinePage(run: DemoRun): void {
  const link = /timeline of resumed runs: (file:\S+)/.exec(run.stdout)?.[1];
  expect(link, run.stdout).toBeDefined();
  const file = fileURLToPath(link as string);
  try {
    const html = readFileSync(file, "utf8");
    const json = /<script type="application\/json" id="view-data">(.*?)<\/script>/s.exec(html)?.[1];
    const data = JSON.parse(json ?? "null") as { threads: { threadId: string }[]; activity: ViewActivity };
    expect(data.activity.source).toBe("audit");
    expect(data.activity.postgresEvents).toBeGreaterThan(0);
    const threads = data.threads.map((t) => t.threadId);
    expect(threads.length).toBeGreaterThan(0);
    // Each drawn run was resumed: a crash mark (claimed by the recoverer) and a resume mark on its thread.
    for (const thread of threads) {
      const kinds = data.activity.marks.filter((m) => m.threadId === thread).map((m) => m.kind);
      expect(kinds, thread).toEqual(expect.arrayContaining(["crash", "resume"]));
    }
    expect(data.activity.holds.length).toBeGreaterThan(0);
    expect(data.activity.holds.every((h) => h.lock.startsWith("order:") && h.holder !== "?")).toBe(true);
    expect(html).toContain('class="run-mark crash"');
    expect(html).toContain('class="lock-hold');
  } finally {
    rmSync(file, { force: true });
  }
}

/** Deletes what --keep left: the run's keys in Redis and its audit schema in PostgreSQL. */
async function removeKept(prefix: string | undefined): Promise<void> {
  if (prefix === undefined) return;
  const client = new Redis(inject("redisUrl"), { maxRetriesPerRequest: 1 });
  const pool = new pg.Pool({ connectionString: inject("postgresUrl"), max: 1 });
  try {
    await sweepPrefix(client, prefix);
    await pool.query(`DROP SCHEMA IF EXISTS "${prefix.replace(/[^a-z0-9]/g, "_")}" CASCADE`);
  } finally {
    await pool.end();
    await client.quit();
  }
}

function checkTrail(run: DemoRun): void {
  const header = run.stdout.match(/audit trail of order (\S+), read from PostgreSQL \((\d+) events\):/);
  expect(header, run.stdout).not.toBeNull();
  const lines = run.stdout.split("\n");
  const start = lines.findIndex((line) => line.includes("audit trail of order"));
  const trail = lines
    .slice(start + 1, start + 1 + Number(header?.[2]))
    .map((line) => line.trim().split(/\s+/))
    .map(([offset = "", agent = "", kind = "", ...rest]) => ({ offset, agent, kind, rest: rest.join(" ") }));
  expect(trail.length).toBeGreaterThan(0);
  // Times never go backwards; store versions count up from 1 with no gap.
  const offsets = trail.map((e) => Number(e.offset.replace(/[+s]/g, "")));
  expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
  const versions = trail.filter((e) => e.kind === "store.put").map((e) => Number(/version (\d+)/.exec(e.rest)?.[1]));
  expect(versions.length).toBeGreaterThan(0);
  expect(versions).toEqual(versions.map((_, i) => i + 1));
  // Every write was made while its agent held the order's lock, under that acquisition's fencing token. The only
  // lock never released is one the killed agent held: it expired, and the next holder's tokens are higher.
  const victim = /SIGKILL (\S+) \(pid/.exec(run.stdout)?.[1];
  let holder: { agent: string; token: string } | undefined;
  for (const event of trail) {
    const token = /fencing token (\d+)/.exec(event.rest)?.[1] ?? "";
    if (event.kind === "lock.acquired") {
      if (holder?.agent === victim) holder = undefined;
      expect(holder, "two holders at once").toBeUndefined();
      holder = { agent: event.agent, token };
    } else if (event.kind === "lock.released" || event.kind === "lock.lost") {
      expect(holder).toEqual({ agent: event.agent, token });
      holder = undefined;
    } else if (event.kind === "store.put") {
      expect(holder).toEqual({ agent: event.agent, token });
    }
  }
}

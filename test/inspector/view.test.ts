/**
 * The `view` page in a real browser: Debian's chromium, headless, driven by playwright-core. The page must draw
 * every checkpoint of the threads (checked in the DOM), log no console error, answer a click, and leave a
 * screenshot under test-artifacts/ (gitignored) for people to look at.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext } from "playwright-core";
import { inject } from "vitest";
import { main } from "../../src/inspector/cli.js";
import { EXIT } from "../../src/inspector/errors.js";
import { newCluster, newRedis, redisUrl, testPrefix } from "../helpers/redis.js";
import { waitUntil } from "../recovery/helpers.js";
import { ARTIFACTS, loadPage, openBrowser } from "./browser.js";
import { type Fixture, writeFixture } from "./fixture.js";
import { runCli } from "./run-cli.js";

async function checkPage(context: BrowserContext, url: string, fixture: Fixture, expectedIds: string[], shot: string) {
  const { page, problems } = await loadPage(context, url);

  const drawn = await page.$$eval("svg g.checkpoint", (nodes) =>
    nodes.map((n) => n.getAttribute("data-checkpoint-id")),
  );
  expect(drawn.sort()).toEqual([...expectedIds].sort());
  const forkStarts = await page.$$eval("svg circle.fork-start", (nodes) => nodes.length);
  expect(forkStarts).toBe(1);
  expect(await page.$$eval("svg g.lease-expired, svg g.lease-claim", (n) => n.length)).toBeGreaterThan(0);
  expect(await page.$$eval("svg g.item-version", (n) => n.length)).toBe(2);
  // This fixture writes no audit events: the page says that lock and crash history needs audit.
  expect(await page.getAttribute("#history-note", "data-source")).toBe("none");
  expect(await page.textContent("#history-note")).toContain("turn on audit");
  const rows = await page.$$eval(`table[data-thread-id="${fixture.forkThread}"] tr.checkpoint-row`, (n) => n.length);
  expect(rows).toBeGreaterThan(0);

  const target = expectedIds[0] as string;
  await page.click(`svg g.checkpoint[data-checkpoint-id="${target}"]`);
  expect(await page.textContent("#details")).toContain(target);

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, shot), fullPage: true });
  expect(existsSync(join(ARTIFACTS, shot))).toBe(true);
  expect(problems).toEqual([]);
  await page.close();
}

describe("inspector view page in headless chromium", () => {
  let fixture: Fixture;
  let prefix: string;
  let expectedIds: string[];
  let browser: Awaited<ReturnType<typeof openBrowser>>;

  beforeAll(async () => {
    prefix = testPrefix("view");
    fixture = await writeFixture(newRedis(), prefix, newRedis);
    expectedIds = [];
    for (const thread of [fixture.chatThread, fixture.forkThread, fixture.crashedThread]) {
      const history = await runCli(["--url", redisUrl(), "--prefix", prefix, "history", thread, "--json"]);
      expectedIds.push(
        ...history.json<{ checkpoints: { checkpointId: string }[] }>().checkpoints.map((c) => c.checkpointId),
      );
    }
    browser = await openBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  const threads = () => [fixture.chatThread, fixture.forkThread, fixture.crashedThread];

  it("writes a self-contained page that draws every checkpoint, forks, leases and the item's history", async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const out = join(ARTIFACTS, "view.html");
    const run = await runCli([
      ...["--url", redisUrl(), "--prefix", prefix, "view", ...threads()],
      ...["--item", `${fixture.namespace.join(".")}/${fixture.key}`, "--out", out, "--json"],
    ]);
    expect(run.code, run.stderr).toBe(EXIT.ok);
    const { url } = run.json<{ url: string }>();
    expect(url).toMatch(/^file:\/\//);
    await checkPage(browser.context, url, fixture, expectedIds, "view.png");
  });

  it("serves the page on 127.0.0.1 until stopped", async () => {
    const stop = new AbortController();
    let stdout = "";
    const running = main(
      [
        "--url",
        redisUrl(),
        "--prefix",
        prefix,
        "--quiet",
        "view",
        ...threads(),
        "--item",
        "orders.o-1/status",
        "--serve",
        "--json",
      ],
      { out: (t) => (stdout += t), err: () => {}, env: {} },
      { signal: stop.signal },
    );
    try {
      await waitUntil(() => stdout.includes("url"));
      const { url } = JSON.parse(stdout.split("\n")[0] ?? "") as { url: string };
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      await checkPage(browser.context, url, fixture, expectedIds, "view-served.png");
    } finally {
      stop.abort();
    }
    expect(await running).toBe(EXIT.ok);
  });

  it("draws a cluster's threads the same way", async () => {
    const clusterPrefix = testPrefix("viewc");
    const clusterFixture = await writeFixture(newCluster(), clusterPrefix, newCluster);
    const url = `redis+cluster://${inject("clusterNodes")}`;
    const ids: string[] = [];
    for (const thread of threads()) {
      const history = await runCli(["--url", url, "--prefix", clusterPrefix, "history", thread, "--json"]);
      ids.push(...history.json<{ checkpoints: { checkpointId: string }[] }>().checkpoints.map((c) => c.checkpointId));
    }
    const out = join(ARTIFACTS, "view-cluster.html");
    const run = await runCli([
      ...[
        "--url",
        url,
        "--prefix",
        clusterPrefix,
        "view",
        ...threads(),
        "--item",
        "orders.o-1/status",
        "--out",
        out,
        "--json",
      ],
    ]);
    expect(run.code, run.stderr).toBe(EXIT.ok);
    await checkPage(browser.context, run.json<{ url: string }>().url, clusterFixture, ids, "view-cluster.png");
  });

  it("says what is wrong for an unknown thread (exit 4) and a malformed --item (exit 2)", async () => {
    const missing = await runCli([
      "--url",
      redisUrl(),
      "--prefix",
      prefix,
      "view",
      "nope",
      "--out",
      join(ARTIFACTS, "x.html"),
    ]);
    expect(missing.code).toBe(EXIT.notFound);
    expect(missing.stderr).toContain('thread "nope" has no checkpoints');
    const bad = await runCli(["--url", redisUrl(), "--prefix", prefix, "view", "--item", "no-slash"]);
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toContain("write it as namespace/key");
  });
});

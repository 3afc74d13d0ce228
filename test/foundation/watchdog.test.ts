/**
 * The test watchdog (test/setup/watchdog.ts): a file whose process stops running timers, or that runs past the file
 * limit, is reported with its test and what it was doing, its process is killed, and vitest goes on with the other
 * files and fails the run, where it would otherwise wait for ever. Runs vitest itself on fixture files, with limits of
 * seconds.
 */
import { join } from "node:path";
import { repoRoot, startChild, stopAll } from "../helpers/child-process.js";

afterAll(stopAll);

it("reports and kills a process that never yields, one blocked outside JavaScript and a file past its limit; the others run; the run fails", async () => {
  const vitest = startChild(
    [
      join(repoRoot, "node_modules", "vitest", "vitest.mjs"),
      "run",
      "--config",
      join(repoRoot, "test", "foundation", "fixtures", "watchdog", "vitest.config.ts"),
      "--no-color",
    ],
    { env: { TEST_STALL_LIMIT_MS: "4000", TEST_FILE_LIMIT_MS: "12000", CI: "true" } },
  );
  const { code, stderr } = await vitest.exited;
  const stdout = vitest.lines.join("\n");
  const output = `${stdout}\n${stderr}`;

  expect(code).toBe(1);
  // The blocked process: its test, and the stack down to the loop.
  expect(stderr).toMatch(
    /\[test watchdog\] \S*spin\.hang\.ts: the main thread ran no timer for \d+ ms\. Current test: never yields/,
  );
  expect(stderr).toMatch(/its stack:\n\s+at spinForever \(\S*spin\.hang\.ts:\d+:\d+\)/);
  // The file past its limit: its test, and the resources its main thread waits on (the test's timer among them).
  expect(stderr).toMatch(
    /\[test watchdog\] \S*long\.hang\.ts: the file has run for \d+ ms\. Current test: waits past the file limit/,
  );
  expect(stderr).toMatch(/the main thread waits on: .*Timeout/);
  // The process blocked outside JavaScript: where its threads wait instead of a stack.
  expect(stderr).toMatch(
    /\S*blocked\.hang\.ts: the main thread ran no timer for \d+ ms\. Current test: blocks outside JavaScript/,
  );
  expect(stderr).toMatch(
    /ran no JavaScript within 5 s: it is blocked outside it\)\n {2}threads:\n\s+thread \d+ \S+: state \w/,
  );
  expect(stderr.match(/killing the test process \(pid \d+\)/g)).toHaveLength(3);
  // The other file ran and passed; vitest reported both killed processes as errors.
  expect(stdout).toMatch(/✓ passes\.hang\.ts > passes/);
  expect(output.match(/Worker exited unexpectedly/g)?.length).toBeGreaterThanOrEqual(3);
  // The summary at the end repeats the three reports, before its count line.
  const summary = stdout.slice(stdout.lastIndexOf("Test Files"));
  expect(summary.match(/\[test watchdog\] \S+\.hang\.ts: /g)).toHaveLength(3);
  expect(summary).toMatch(/\ntests: 1 passed, 0 failed, 0 skipped, 4 not finished\n?$/);
});

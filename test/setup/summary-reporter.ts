/**
 * Prints one plain closing line after vitest's own report, "tests: N passed, N failed, N skipped" (", N not
 * finished" when a test process died before its tests ended), and before it the test watchdog's reports of the
 * processes it killed (watchdog.ts), so the last lines of a CI log show both.
 */
import type { Reporter, TestModule } from "vitest/node";
import { takeWatchdogReports } from "./watchdog-reports.js";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0, unfinished: 0 };
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") counts.passed++;
        else if (state === "failed") counts.failed++;
        else if (state === "skipped") counts.skipped++;
        // Tests of a file whose process died (the watchdog kills hung ones) never finish.
        else counts.unfinished++;
      }
    }
    for (const report of takeWatchdogReports()) process.stdout.write(`\n${report}\n`);
    const unfinished = counts.unfinished > 0 ? `, ${counts.unfinished} not finished` : "";
    process.stdout.write(
      `\ntests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped${unfinished}\n`,
    );
  }
}

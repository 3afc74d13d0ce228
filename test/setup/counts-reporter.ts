/**
 * Prints the reliability tallies that tests recorded with recordCounts() (test/helpers/counts.ts): faults injected,
 * acknowledged writes checked, inputs tried, and failures (failures the tests counted plus tests that failed).
 * Silent when no test recorded any.
 */
import type { Reporter, TestModule } from "vitest/node";
import type { ReliabilityCounts } from "../helpers/counts.js";

export default class CountsReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const total: ReliabilityCounts = { faultsInjected: 0, acknowledgedWritesChecked: 0, inputsTried: 0, failures: 0 };
    let reported = false;
    let failedTests = 0;
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const counts = test.meta().reliabilityCounts;
        if (test.result().state === "failed") failedTests++;
        if (!counts) continue;
        reported = true;
        for (const name of Object.keys(total) as (keyof ReliabilityCounts)[]) total[name] += counts[name] ?? 0;
      }
    }
    if (!reported) return;
    process.stdout.write(
      `reliability: ${total.faultsInjected} faults injected, ${total.acknowledgedWritesChecked} acknowledged writes ` +
        `checked, ${total.inputsTried} inputs tried, ${total.failures + failedTests} failures\n`,
    );
  }
}

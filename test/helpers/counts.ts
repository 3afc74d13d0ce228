/**
 * Counts that reliability tests report (faults injected, acknowledged writes checked, inputs tried, failures found),
 * attached to the test's meta so test/setup/counts-reporter.ts can add them up across files and print them.
 */
import type { TestContext } from "vitest";

export interface ReliabilityCounts {
  faultsInjected: number;
  acknowledgedWritesChecked: number;
  inputsTried: number;
  failures: number;
}

declare module "@vitest/runner" {
  interface TaskMeta {
    reliabilityCounts?: Partial<ReliabilityCounts>;
  }
}

/** Adds `counts` to the running test's tally. */
export function recordCounts(context: Pick<TestContext, "task">, counts: Partial<ReliabilityCounts>): void {
  context.task.meta.reliabilityCounts ??= {};
  const tally = context.task.meta.reliabilityCounts;
  for (const [name, value] of Object.entries(counts) as [keyof ReliabilityCounts, number][]) {
    tally[name] = (tally[name] ?? 0) + value;
  }
}

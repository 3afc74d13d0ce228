/**
 * Where the test watchdog (watchdog.ts) leaves its reports for the end of the run: a folder per vitest process, named
 * by its pid (a test process's parent). The summary reporter prints them after vitest's own report, where a CI log's
 * last lines show them, and removes the folder.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The lines of a report the summary repeats; the whole report is on the test process's stderr where it happened. */
const SUMMARY_LINES = 60;

export function watchdogReportDir(vitestPid: number): string {
  return join(tmpdir(), `test-watchdog-${vitestPid}`);
}

/** The reports this vitest process's test processes left, each cut to SUMMARY_LINES; the folder is removed. */
export function takeWatchdogReports(): string[] {
  const dir = watchdogReportDir(process.pid);
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  const reports = names.map((name) => {
    const lines = readFileSync(join(dir, name), "utf8").trimEnd().split("\n");
    return lines.length > SUMMARY_LINES
      ? [...lines.slice(0, SUMMARY_LINES), `  (${lines.length - SUMMARY_LINES} more lines above, on stderr)`].join("\n")
      : lines.join("\n");
  });
  rmSync(dir, { recursive: true, force: true });
  return reports;
}

/** Renders results as a console table and as Markdown, and writes bench/results.json and bench/results.md. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchResults, Cell, CellKind, Table, TargetResult } from "./results.js";

export function formatCell(value: Cell, kind: CellKind): string {
  if (value === null) return "-";
  if (typeof value === "string") return value;
  if (!Number.isFinite(value)) return "-";
  switch (kind) {
    case "ms":
      return value < 1 ? value.toFixed(3) : value < 100 ? value.toFixed(2) : value.toFixed(1);
    case "ratio":
      return `${value.toFixed(2)}x`;
    case "decimal":
      return value.toFixed(2);
    case "int":
    case "rate":
    case "bytes":
      return Math.round(value).toLocaleString("en-US");
    case "text":
      return String(value);
  }
}

function targetVerdict(target: TargetResult): string {
  if (target.met === null) return "not measured";
  return target.met ? "met" : "MISSED";
}

function tableCells(table: Table): string[][] {
  return table.rows.map((row) => table.columns.map((column) => formatCell(row[column.key] ?? null, column.kind)));
}

function alignedText(headers: readonly string[], rows: readonly string[][], rightAlign: readonly boolean[]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (rightAlign[i] ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)];
}

function runSummary(results: BenchResults): string[] {
  const run = results.run;
  const load = (values: readonly number[]) => values.map((v) => v.toFixed(2)).join(" ");
  return [
    `Run ${run.startedAt}, ${(run.durationMs / 1000).toFixed(0)} s; langgraph-redis ${run.packageVersion}; ` +
      `Node ${run.node} on ${run.platform}, ${run.cpus} x ${run.cpuModel}`,
    `Redis ${run.redisVersion} (${run.redisSource}); load average ${load(run.loadAvgStart)} at start, ` +
      `${load(run.loadAvgEnd)} at end (the machine runs other work too); scale ${run.scale}`,
  ];
}

export function renderText(results: BenchResults): string {
  const out: string[] = ["", ...runSummary(results), ""];
  for (const table of results.tables) {
    out.push(table.title);
    const right = table.columns.map((c) => c.kind !== "text");
    out.push(
      ...alignedText(
        table.columns.map((c) => c.label),
        tableCells(table),
        right,
      ).map((l) => `  ${l}`),
    );
    for (const note of table.notes) out.push(`  * ${note}`);
    out.push("");
  }
  out.push("Targets");
  out.push(
    ...alignedText(
      ["Target", "Measured", "Result"],
      results.targets.map((t) => [t.target, t.measured ?? "-", targetVerdict(t)]),
      [false, true, false],
    ).map((l) => `  ${l}`),
  );
  const notMeasured = results.sections.filter((s) => s.status !== "measured");
  if (notMeasured.length > 0) {
    out.push("", "Sections not measured");
    for (const s of notMeasured) out.push(`  ${s.title}: ${s.status}${s.detail ? ` (${s.detail})` : ""}`);
  }
  out.push("");
  return out.join("\n");
}

function escapeMd(text: string): string {
  return text.replace(/\|/g, "\\|");
}

/** A Markdown table padded the way the project's formatter lays tables out, so it reads well as plain text too. */
function markdownTable(
  headers: readonly string[],
  rows: readonly string[][],
  rightAlign: readonly boolean[],
): string[] {
  const escaped = rows.map((row) => row.map(escapeMd));
  const heads = headers.map(escapeMd);
  const widths = heads.map((h, i) => Math.max(3, h.length, ...escaped.map((r) => (r[i] ?? "").length)));
  const cell = (text: string, i: number) =>
    rightAlign[i] ? text.padStart(widths[i] ?? 0) : text.padEnd(widths[i] ?? 0);
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(" | ")} |`;
  const rule = widths.map((w, i) => (rightAlign[i] ? `${"-".repeat(w - 1)}:` : "-".repeat(w)));
  return [line(heads), `| ${rule.join(" | ")} |`, ...escaped.map(line)];
}

export function renderMarkdown(results: BenchResults): string {
  const out: string[] = [
    "# Benchmark results",
    "",
    "Written by `npm run bench`; see docs/benchmarks.md for how to read it.",
    "",
  ];
  for (const line of runSummary(results)) out.push(`${line}.`, "");
  out.push("## Targets", "");
  out.push(
    ...markdownTable(
      ["Target", "Measured", "Result"],
      results.targets.map((t) => [t.target, t.measured ?? "-", targetVerdict(t)]),
      [false, true, false],
    ),
    "",
  );
  for (const table of results.tables) {
    out.push(`## ${table.title}`, "");
    out.push(
      ...markdownTable(
        table.columns.map((c) => c.label),
        tableCells(table),
        table.columns.map((c) => c.kind !== "text"),
      ),
    );
    if (table.notes.length > 0) out.push("", ...table.notes.map((n) => `- ${n}`));
    out.push("");
  }
  const notMeasured = results.sections.filter((s) => s.status !== "measured");
  if (notMeasured.length > 0) {
    out.push("## Sections not measured", "");
    for (const s of notMeasured) out.push(`- ${s.title}: ${s.status}${s.detail ? ` (${s.detail})` : ""}`);
    out.push("");
  }
  return out.join("\n");
}

export function writeResults(results: BenchResults, dir: string): { json: string; markdown: string } {
  const json = join(dir, "results.json");
  const markdown = join(dir, "results.md");
  writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(markdown, renderMarkdown(results));
  return { json, markdown };
}

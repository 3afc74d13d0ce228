/** How the inspector prints: aligned text tables for people, JSON (one document per command) for scripts. */

export interface Io {
  /** Writes to standard output (the result). */
  out(text: string): void;
  /** Writes to standard error (progress, warnings, errors). */
  err(text: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** An aligned table; numbers are right-aligned, cells are cut at `maxWidth` characters. */
export function table(headers: readonly string[], rows: readonly (readonly unknown[])[], maxWidth = 60): string {
  const cells = rows.map((row) => row.map((cell) => clip(cellText(cell), maxWidth)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === "number"));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => (row[i] ?? "").length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...cells.map(line)].join("\n");
}

function cellText(cell: unknown): string {
  if (cell === undefined || cell === null || cell === "") return "-";
  if (cell instanceof Date) return formatTime(cell.getTime());
  if (Array.isArray(cell)) return cell.length === 0 ? "-" : cell.join(",");
  return String(cell).replace(/\s+/g, " ");
}

function clip(text: string, maxWidth: number): string {
  return text.length <= maxWidth ? text : `${text.slice(0, maxWidth - 1)}…`;
}

/** "2026-11-30 05:55:43.389" (UTC). */
/** "1 write", "2 writes". */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

export function formatTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return "-";
  return new Date(ms).toISOString().replace("T", " ").replace("Z", "");
}

/** 1234 -> "1.2 kB" (powers of 1000, as memory tools print). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = "B";
  for (const next of units) {
    if (value < 1000) break;
    value /= 1000;
    unit = next;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${unit}`;
}

/** 1500 -> "1.5 s", 90_000 -> "1m30s". */
export function formatDuration(ms: number): string {
  const sign = ms < 0 ? "-" : "";
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${Math.round(abs)} ms`;
  if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(1)} s`;
  const minutes = Math.floor(abs / 60_000);
  const seconds = Math.round((abs % 60_000) / 1000);
  return minutes < 60
    ? `${sign}${minutes}m${String(seconds).padStart(2, "0")}s`
    : `${sign}${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

/** JSON for --json: Dates as ISO strings, undefined fields left out, two-space indentation. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? String(v) : v), 2);
}

/**
 * Re-renders bench/results.md (and prints the table) from bench/results.json without measuring again:
 *   npx tsx bench/render.ts
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderMarkdown, renderText } from "./report.js";
import type { BenchResults } from "./results.js";

const dir = import.meta.dirname;
const results = JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as BenchResults;
writeFileSync(join(dir, "results.md"), renderMarkdown(results));
process.stdout.write(renderText(results));

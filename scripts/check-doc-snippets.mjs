#!/usr/bin/env node
/**
 * Type-checks every ```ts block of README.md and docs/*.md against src/ ("langgraph-redis" resolves there, as in the
 * tests), so a renamed option or method cannot leave the docs showing code that no longer compiles. Each block is
 * its own module (top-level await allowed); names a fragment uses without declaring come from
 * docs/snippet-context.d.ts. A block fenced ```ts skip-check is left out (a piece of a larger literal). Errors are
 * reported at their line in the Markdown file; exit code 1 when there is any.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, ".doc-snippets");
const documents = [
  "README.md",
  ...readdirSync(join(root, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => `docs/${name}`),
];

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
/** Snippet file name -> [Markdown file, line of the block's first code line]. */
const origins = new Map();
const fence = /^```ts( skip-check)?\n([\s\S]*?)^```$/gm;
for (const document of documents) {
  const text = readFileSync(join(root, document), "utf8");
  for (const match of text.matchAll(fence)) {
    if (match[1]) continue;
    const firstLine = text.slice(0, match.index).split("\n").length + 1;
    const name = `${document.replace(/\W/g, "_")}_L${firstLine}.ts`;
    origins.set(name, [document, firstLine]);
    writeFileSync(join(out, name), `${match[2]}export {};\n`);
  }
}
writeFileSync(
  join(out, "tsconfig.json"),
  JSON.stringify({
    extends: "../tsconfig.json",
    // A snippet shows a step, not a whole program: names it declares for the reader may stay unused.
    compilerOptions: { noUnusedLocals: false, noUnusedParameters: false, types: ["node"] },
    include: ["./*.ts", "../docs/snippet-context.d.ts"],
  }),
);

const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const result = spawnSync(process.execPath, [tsc, "-p", join(out, "tsconfig.json"), "--pretty", "false"], {
  cwd: root,
  encoding: "utf8",
});
const lines = `${result.stdout}${result.stderr}`.split("\n").filter((line) => line.trim() !== "");
const located = lines.map((line) => {
  const match = /^(?:.*[\\/])?([^\\/()]+\.ts)\((\d+),(\d+)\): (.*)$/.exec(line);
  const origin = match && origins.get(match[1]);
  if (!origin) return line;
  return `${origin[0]}:${origin[1] + Number(match[2]) - 1}:${match[3]}: ${match[4]}`;
});
if (result.status !== 0 || located.length > 0) {
  console.error(located.join("\n"));
  console.error(
    `\n${relative(root, out)}: the ts blocks above do not compile (docs/snippet-context.d.ts has the names fragments may assume)`,
  );
  process.exit(1);
}
rmSync(out, { recursive: true, force: true });
console.log(`${origins.size} ts blocks of README.md and docs/ compile`);

/**
 * Child processes of the recovery kill test. The program is bundled once per test run (esbuild) and started with
 * plain node, which starts far faster than a TypeScript loader on a small machine. Process handling (lines,
 * signals, stopAll by pid) is test/helpers/child-process.ts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { type Child, repoRoot, startChild } from "../../helpers/child-process.js";

export { type Child, stopAll } from "../../helpers/child-process.js";

/** Bundles test/faults/recovery/program.ts into one ESM file; returns its path and a cleanup. */
export async function bundleProgram(): Promise<{ file: string; cleanup: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), "lgr-recovery-kill-"));
  const file = join(dir, "program.mjs");
  await build({
    entryPoints: [join(repoRoot, "test", "faults", "recovery", "program.ts")],
    outfile: file,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "error",
    // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __lgrCreateRequire } from 'node:module'; const require = __lgrCreateRequire(import.meta.url);",
    },
  });
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts the bundled program; stdin stays open and unused, so the child exits when this process is gone. */
export function startProgramChild(file: string, args: readonly string[]): Child {
  return startChild([file, ...args], { keepStdin: true });
}

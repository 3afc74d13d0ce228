/**
 * Bundles a child program of the fault tests into one ESM file (esbuild), once per test run: started with plain
 * node, it starts far faster than through a TypeScript loader on a small machine.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { repoRoot } from "./child-process.js";

/** Bundles `entry` (a path from the repository root); returns the bundle's path and a cleanup that removes it. */
export async function bundleProgram(
  entry: string,
  options: { external?: string[] } = {},
): Promise<{ file: string; cleanup: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), "lgr-program-"));
  const file = join(dir, "program.mjs");
  await build({
    entryPoints: [join(repoRoot, entry)],
    outfile: file,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "error",
    external: options.external ?? [],
    // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __lgrCreateRequire } from 'node:module'; const require = __lgrCreateRequire(import.meta.url);",
    },
  });
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

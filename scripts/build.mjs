#!/usr/bin/env node
// Dual build: esbuild turns each source file into ESM (dist/esm) and CommonJS (dist/cjs) without bundling;
// tsc writes the declarations beside each. dist/cjs carries a package.json that marks it CommonJS, so the
// same .js/.d.ts names mean CommonJS there and ESM in dist/esm.
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: "inherit" });

run(process.execPath, [join(root, "scripts", "embed-lua.mjs")]);
rmSync(join(root, "dist"), { recursive: true, force: true });

const entryPoints = readdirSync(join(root, "src"), { recursive: true })
  .map(String)
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
  .map((f) => join(root, "src", f));

const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
for (const format of ["esm", "cjs"]) {
  const outdir = join(root, "dist", format);
  await build({ entryPoints, outdir, outbase: join(root, "src"), format, platform: "node", target: "node20" });
  run(process.execPath, [tsc, "-p", "tsconfig.build.json", "--outDir", outdir]);
}
writeFileSync(join(root, "dist", "cjs", "package.json"), `${JSON.stringify({ type: "commonjs" })}\n`);

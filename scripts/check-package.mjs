#!/usr/bin/env node
// Packs the package as users get it and loads the tarball both ways: require() (CommonJS) and import (ESM).
// The tarball is unpacked under node_modules/.cache so its dependencies resolve from this checkout's node_modules.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const work = join(root, "node_modules", ".cache", "pack-check");
const target = join(work, "node_modules", "langgraph-redis");
rmSync(work, { recursive: true, force: true });
mkdirSync(target, { recursive: true });

const packed = JSON.parse(
  execFileSync("npm", ["pack", "--json", "--pack-destination", work], { cwd: root }).toString(),
);
const tarball = join(work, packed[0].filename);
execFileSync("tar", ["-xzf", tarball, "-C", target, "--strip-components=1"]);

const probe = "if (typeof m.LangGraphRedisError !== 'function') { throw new Error('exports missing'); }";
execFileSync(process.execPath, ["-e", `const m = require('langgraph-redis'); ${probe} console.log('require: ok')`], {
  cwd: work,
  stdio: "inherit",
});
execFileSync(
  process.execPath,
  ["--input-type=module", "-e", `const m = await import('langgraph-redis'); ${probe} console.log('import: ok')`],
  { cwd: work, stdio: "inherit" },
);
// The `langgraph-redis` bin from the tarball: --help exits 0, an unknown command exits 2 (usage error).
const manifest = JSON.parse(readFileSync(join(target, "package.json"), "utf8"));
const bin = join(target, manifest.bin["langgraph-redis"]);
execFileSync(process.execPath, [bin, "--help"], { cwd: work, stdio: "ignore" });
const unknown = spawnSync(process.execPath, [bin, "no-such-command"], { cwd: work, stdio: "ignore" });
if (unknown.status !== 2) throw new Error(`the bin exited ${unknown.status} for an unknown command, not 2`);
console.log("bin: ok");
rmSync(work, { recursive: true, force: true });

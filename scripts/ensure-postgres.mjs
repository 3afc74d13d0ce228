#!/usr/bin/env node
// Makes sure PostgreSQL server binaries (initdb, postgres) are available for the audit tests and the demo's audit
// trail. 1. POSTGRES_URL set: the caller brings a server; nothing to do. 2. initdb and postgres found (on PATH or
// under /usr/lib/postgresql/<version>/bin, where Debian puts them): done. 3. Root on Debian/Ubuntu: apt-get install
// postgresql. 4. Otherwise: exit 1 with a message that says how to get them.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

function postgresBinDir() {
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const version of versions) {
      const dir = join(root, version, "bin");
      if (existsSync(join(dir, "initdb")) && existsSync(join(dir, "postgres"))) return dir;
    }
  }
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && existsSync(join(dir, "initdb")) && existsSync(join(dir, "postgres"))) return dir;
  }
  return undefined;
}

if (process.env.POSTGRES_URL) process.exit(0);
if (postgresBinDir()) process.exit(0);

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const isDebian = existsSync("/etc/debian_version") && existsSync("/usr/bin/apt-get");
if (isRoot && isDebian) {
  console.error("[langgraph-redis] PostgreSQL server binaries not found; installing postgresql with apt-get...");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  try {
    execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
    execFileSync("apt-get", ["install", "-y", "-qq", "postgresql"], { stdio: "inherit", env });
  } catch (error) {
    console.error(`[langgraph-redis] apt-get failed: ${error.message}`);
  }
  if (postgresBinDir()) process.exit(0);
}

console.error(`[langgraph-redis] PostgreSQL server binaries (initdb, postgres) not found.
Install PostgreSQL 13 or newer (Debian/Ubuntu: sudo apt-get install postgresql; macOS: brew install postgresql),
or point the suite at a server you already run:
  POSTGRES_URL=postgres://user:password@127.0.0.1:5432/db npm test`);
process.exit(1);

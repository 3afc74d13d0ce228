#!/usr/bin/env node
// Makes sure a `redis-server` binary is available for the test suite, the demo and the benchmark.
// 1. REDIS_URL set: the caller brings a server; nothing to do (the cluster suite then needs REDIS_CLUSTER_NODES
//    or a local binary, and says so).
// 2. redis-server on PATH: done.
// 3. Root on Debian/Ubuntu: apt-get install redis-server (and redis-tools for redis-cli).
// 4. Otherwise: exit 1 with a message that says how to get one.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

function onPath(bin) {
  return spawnSync("sh", ["-c", `command -v ${bin}`], { stdio: "ignore" }).status === 0;
}

const need = ["redis-server", "redis-cli"];
const missing = () => need.filter((bin) => !onPath(bin));

if (process.env.REDIS_URL && process.env.REDIS_CLUSTER_NODES) process.exit(0);
if (missing().length === 0) process.exit(0);

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const isDebian = existsSync("/etc/debian_version") && onPath("apt-get");
if (isRoot && isDebian) {
  console.error(`[langgraph-redis] ${missing().join(" and ")} not found; installing redis-server with apt-get...`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  try {
    execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
    execFileSync("apt-get", ["install", "-y", "-qq", "redis-server", "redis-tools"], { stdio: "inherit", env });
  } catch (error) {
    console.error(`[langgraph-redis] apt-get failed: ${error.message}`);
  }
  if (missing().length === 0) process.exit(0);
}

console.error(`[langgraph-redis] ${missing().join(" and ")} not found on PATH.
Install Redis 7 or newer (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis),
or point the suite at servers you already run:
  REDIS_URL=redis://127.0.0.1:6379 REDIS_CLUSTER_NODES=127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002 npm test`);
process.exit(1);

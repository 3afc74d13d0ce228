/**
 * How every child program of the recovery fault tests starts: a tag naming this process, a line printer that writes
 * synchronously (so every line printed before a SIGKILL reaches the parent), a watchdog so the child never outlives
 * the test, and its Redis client from the config the test passed.
 */
import { randomBytes } from "node:crypto";
import { writeSync } from "node:fs";
import { Cluster, Redis } from "ioredis";

export interface ProgramTarget {
  redisUrl?: string;
  clusterNodes?: { host: string; port: number }[];
}

export function startProgram(target: ProgramTarget, options: { tagPrefix: string; lifetimeMs: number }) {
  const tag = `${options.tagPrefix}-${process.pid}-${randomBytes(3).toString("hex")}`;
  const print = (line: string) => writeSync(1, `${line}\n`);
  // Never outlive the test: stdin is a pipe from the parent, closed when the parent dies (however it dies).
  process.stdin.on("end", () => process.exit(3));
  process.stdin.resume();
  setTimeout(() => process.exit(3), options.lifetimeMs).unref();
  const client = target.clusterNodes
    ? new Cluster(target.clusterNodes, { redisOptions: { maxRetriesPerRequest: 2 } })
    : new Redis(target.redisUrl ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: 2 });
  return { tag, print, client };
}

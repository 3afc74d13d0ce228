/** What every bench section receives: the client, a key prefix of its own, progress output and the recorder. */
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { Progress } from "./progress.js";
import type { Recorder } from "./results.js";

export interface BenchContext {
  /** The shared client: components under test and their floors use this same connection. */
  readonly client: Redis;
  /** Opens another client to the same server (closed by the runner at the end). */
  newClient(options?: { enableAutoPipelining?: boolean }): Redis;
  /** A key prefix unique to this run and `name`; every key the bench writes starts with the run's root prefix. */
  keyPrefix(name: string): string;
  readonly progress: Progress;
  readonly recorder: Recorder;
  /** `n` scaled by BENCH_SCALE (at least `min`), for sample counts. */
  iterations(n: number, min?: number): number;
  /** `ms` scaled by BENCH_SCALE, for timed phases. */
  durationMs(ms: number): number;
}

export interface Section {
  readonly id: string;
  readonly title: string;
  run(ctx: BenchContext): Promise<void>;
}

export function runRootPrefix(): string {
  return `lgrbench-${randomBytes(4).toString("hex")}`;
}

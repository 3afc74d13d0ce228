/**
 * Starting the agent processes: each is a separate Node.js process (the same TypeScript loader as the
 * orchestrator), configured by one JSON argument. The orchestrator stops them through Redis and, if one does not
 * exit in time, by its pid; it kills only processes it started.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { SetupName } from "./options.js";
import type { Agent } from "./recording.js";

export interface ProcessConfig {
  readonly role: "worker" | "recoverer";
  readonly setup: SetupName;
  readonly prefix: string;
  readonly redisUrl: string;
  readonly workerId: string;
  /** Workers only: which agent this process runs. */
  readonly agent?: Agent;
  readonly concurrency: number;
  readonly guard: boolean;
  /** The layer's components write audit events (`--audit`). */
  readonly audit?: boolean;
}

const entries = {
  worker: fileURLToPath(new URL("./worker.ts", import.meta.url)),
  recoverer: fileURLToPath(new URL("./recoverer.ts", import.meta.url)),
};

export function startProcess(config: ProcessConfig): ChildProcess {
  // process.execArgv carries the TypeScript loader the orchestrator itself runs under.
  return spawn(process.execPath, [...process.execArgv, entries[config.role], JSON.stringify(config)], {
    stdio: ["ignore", "inherit", "inherit"],
  });
}

export function readProcessConfig(): ProcessConfig {
  const arg = process.argv[2];
  if (!arg) throw new Error("expected the process configuration as the first argument");
  return JSON.parse(arg) as ProcessConfig;
}

/** Waits for a child to exit; after `timeoutMs` it is killed by pid. Resolves with its exit code or signal. */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<string> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(describeExit(child));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, "SIGKILL");
    }, timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(describeExit(child));
    });
  });
}

function describeExit(child: ChildProcess): string {
  return child.signalCode ? `killed by ${child.signalCode}` : `exit code ${child.exitCode}`;
}

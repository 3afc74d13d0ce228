/**
 * Child processes of the recovery kill test. The program is bundled once per test run (esbuild) and started with
 * plain node, which starts far faster than a TypeScript loader on a small machine. Every process started here is
 * tracked by pid and killed in stopAll(); nothing else is ever signalled.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";

const root = join(import.meta.dirname, "..", "..", "..");

/** Bundles test/faults/recovery/<entry> (default program.ts) into one ESM file; returns its path and a cleanup. */
export async function bundleProgram(entry = "program.ts"): Promise<{ file: string; cleanup: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), "lgr-recovery-kill-"));
  const file = join(dir, "program.mjs");
  await build({
    entryPoints: [join(root, "test", "faults", "recovery", entry)],
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

export interface Child {
  readonly pid: number;
  readonly lines: string[];
  /** Called with each stdout line as it arrives. */
  onLine?: (line: string) => void;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  readonly alive: boolean;
  kill(signal: NodeJS.Signals): void;
}

const started = new Set<ChildProcess>();

export function startChild(file: string, args: readonly string[]): Child {
  const child = spawn(process.execPath, [file, ...args], {
    cwd: root,
    // stdin stays open and unused: the child exits when it closes, i.e. when this process is gone.
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${file}`);
  started.add(child);
  const lines: string[] = [];
  let buffered = "";
  let stderr = "";
  const handle: Child = {
    pid,
    lines,
    exited: new Promise((resolve) =>
      // "close" (not "exit"): every byte the process wrote to its pipes has been read by then.
      child.once("close", (code, signal) => {
        started.delete(child);
        if (buffered !== "") {
          lines.push(buffered);
          handle.onLine?.(buffered);
        }
        resolve({ code, signal, stderr });
      }),
    ),
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, signal);
    },
  };
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    for (const line of parts) {
      lines.push(line);
      handle.onLine?.(line);
    }
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  return handle;
}

/** SIGKILLs every child started here that is still running, by pid, and waits for them to be gone. */
export async function stopAll(): Promise<void> {
  const running = [...started];
  for (const child of running) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  await Promise.all(running.map((child) => new Promise((resolve) => child.once("close", resolve))));
}

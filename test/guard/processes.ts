/**
 * Child processes for the guard's fault tests: each program runs in one Node process (`node --import tsx`, so the
 * pid we signal is the program itself), its stdout is collected line by line, and every process started here is
 * killed by pid in `stopAll()` (call it in `finally`).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..");

export interface Program {
  readonly pid: number;
  readonly lines: string[];
  /** Resolves with the first stdout line matching `pattern` (bounded by `limitMs`). */
  waitForLine(pattern: RegExp, limitMs?: number): Promise<string>;
  /** Resolves when the process has exited, with its code (null when killed by a signal). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  signal(signal: NodeJS.Signals): void;
}

const started = new Set<ChildProcess>();

export function startProgram(name: string, args: readonly string[]): Program {
  const child = spawn(process.execPath, ["--import", "tsx", join("test", "guard", "programs", name), ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${name}`);
  started.add(child);
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let buffered = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    for (const line of parts) {
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.pattern.test(line))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.once("exit", (code, signal) => {
      started.delete(child);
      resolve({ code, signal, stderr });
    }),
  );
  return {
    pid,
    lines,
    exited,
    signal: (signal) => process.kill(pid, signal),
    waitForLine(pattern, limitMs = 60_000) {
      const seen = lines.find((line) => pattern.test(line));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${name} printed no line matching ${pattern} within ${limitMs} ms:\n${stderr}`)),
          limitMs,
        );
        const done = (line: string) => {
          clearTimeout(timer);
          resolve(line);
        };
        waiters.push({ pattern, resolve: done });
        void exited.then(({ code }) => {
          clearTimeout(timer);
          reject(new Error(`${name} exited (code ${code}) before printing ${pattern}:\n${stderr}`));
        });
      });
    },
  };
}

/** Waits for a program to exit 0 (bounded), and returns its stdout lines. */
export async function finished(program: Program, limitMs = 120_000): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`program ${program.pid} still running after ${limitMs} ms`)), limitMs);
  });
  try {
    const { code, signal, stderr } = await Promise.race([program.exited, limit]);
    if (code !== 0) throw new Error(`program ${program.pid} exited with ${code ?? signal}:\n${stderr}`);
    return program.lines;
  } finally {
    clearTimeout(timer);
  }
}

/** Kills (SIGKILL, by pid) every program started here that is still running; resumes stopped ones first. */
export async function stopAll(): Promise<void> {
  const running = [...started];
  for (const child of running) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGCONT");
      child.kill("SIGKILL");
    }
  }
  await Promise.all(running.map((child) => new Promise((resolve) => child.once("exit", resolve))));
}

/**
 * Child processes for the tests that start, signal and kill real processes. Every process started here is tracked
 * by pid and killed in stopAll() (call it in `finally` / afterAll); nothing else is ever signalled. Stdout is
 * collected line by line.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

/** The repository root: children run from there. */
export const repoRoot = join(import.meta.dirname, "..", "..");

export interface Child {
  readonly pid: number;
  readonly lines: string[];
  /** Called with each stdout line as it arrives. */
  onLine?: (line: string) => void;
  /** Resolves once the process is gone and every byte it wrote to its pipes was read. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  readonly alive: boolean;
  /** Sends `signal` to this process (by pid) if it is still running. */
  kill(signal: NodeJS.Signals): void;
  /** Resolves with the first stdout line matching `pattern` (bounded by `limitMs`). */
  waitForLine(pattern: RegExp, limitMs?: number): Promise<string>;
}

const started = new Set<ChildProcess>();

/**
 * Starts `node <args>` from the repository root. `keepStdin`: stdin stays open and unused, so a child that exits
 * when its stdin closes goes away with this process. `env`: variables set on top of this process's environment.
 */
export function startChild(
  args: readonly string[],
  options: { keepStdin?: boolean; env?: Record<string, string> } = {},
): Child {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    stdio: [options.keepStdin ? "pipe" : "ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "", ...options.env },
  });
  const pid = child.pid;
  const name = args.find((arg) => !arg.startsWith("-") && arg !== "tsx") ?? "child";
  if (pid === undefined) throw new Error(`could not start ${name}`);
  started.add(child);
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let buffered = "";
  let stderr = "";
  const take = (line: string) => {
    lines.push(line);
    handle.onLine?.(line);
    for (const waiter of waiters.filter((w) => w.pattern.test(line))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.once("close", (code, signal) => {
      started.delete(child);
      if (buffered !== "") take(buffered);
      resolve({ code, signal, stderr });
    }),
  );
  const handle: Child = {
    pid,
    lines,
    exited,
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, signal);
    },
    waitForLine(pattern, limitMs = 60_000) {
      const seen = lines.find((line) => pattern.test(line));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${name} printed no line matching ${pattern} within ${limitMs} ms:\n${stderr}`)),
          limitMs,
        );
        waiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        void exited.then(({ code }) => {
          clearTimeout(timer);
          reject(new Error(`${name} exited (code ${code}) before printing ${pattern}:\n${stderr}`));
        });
      });
    },
  };
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    for (const line of parts) take(line);
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  return handle;
}

/** Waits for a child to exit 0 (bounded), and returns its stdout lines. */
export async function finished(child: Child, limitMs = 120_000): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`process ${child.pid} still running after ${limitMs} ms`)), limitMs);
  });
  try {
    const { code, signal, stderr } = await Promise.race([child.exited, limit]);
    if (code !== 0) throw new Error(`process ${child.pid} exited with ${code ?? signal}:\n${stderr}`);
    return child.lines;
  } finally {
    clearTimeout(timer);
  }
}

/** SIGKILLs every child started here that is still running (resuming stopped ones first), by pid, and waits. */
export async function stopAll(): Promise<void> {
  const running = [...started];
  for (const child of running) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGCONT");
      child.kill("SIGKILL");
    }
  }
  await Promise.all(running.map((child) => new Promise((resolve) => child.once("close", resolve))));
}

/**
 * Throwaway local PostgreSQL servers on free loopback ports, for the audit tests and the demo. Each server gets a
 * fresh data directory (initdb, trust authentication, TCP on 127.0.0.1 only, no Unix socket) and runs in the
 * foreground as our child; it is stopped by pid. initdb and postgres refuse to run as root, so as root both run as
 * the unprivileged `nobody` user (through setpriv, which execs in place: the child's pid is the server's pid).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./local-redis.js";

const execFileAsync = promisify(execFile);

const NOBODY_UID = 65534;
const NOGROUP_GID = 65534;

export interface LocalPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly url: string;
  readonly port: number;
  /** The current server process; it changes on each start. */
  readonly pid: number;
  readonly running: boolean;
  /** Sends `signal` to the server and waits for it to exit (SIGKILL: a crash; SIGINT: a fast shutdown). */
  kill(signal: "SIGKILL" | "SIGINT"): Promise<void>;
  /** Starts the server again on the same port and data directory. */
  start(): Promise<void>;
  /** Kills the server and removes its data directory. */
  stop(): Promise<void>;
}

/** The directory holding initdb and postgres: Debian's /usr/lib/postgresql/<newest>/bin, else PATH. */
export function postgresBinDir(): string {
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
  throw new Error("PostgreSQL server binaries (initdb, postgres) not found; run `node scripts/ensure-postgres.mjs`");
}

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

/** The command line that runs `bin` as a user PostgreSQL accepts. */
function asServerUser(bin: string, args: readonly string[]): [string, string[]] {
  if (!isRoot) return [bin, [...args]];
  return [
    "setpriv",
    [`--reuid=${NOBODY_UID}`, `--regid=${NOGROUP_GID}`, "--clear-groups", "--reset-env", "--", bin, ...args],
  ];
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export interface StartPostgresOptions {
  port?: number;
  startTimeoutMs?: number;
  /** Keep fsync and full_page_writes on (the bench's peer comparison); tests turn them off for speed. */
  durable?: boolean;
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<LocalPostgres> {
  const bin = postgresBinDir();
  const port = options.port ?? (await freePort());
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const dir = mkdtempSync(join(tmpdir(), "langgraph-redis-pg-"));
  const data = join(dir, "data");
  if (isRoot) chownSync(dir, NOBODY_UID, NOGROUP_GID);
  const [initCmd, initArgs] = asServerUser(join(bin, "initdb"), [
    "-D",
    data,
    "-U",
    "postgres",
    "--auth=trust",
    "--no-sync",
    "-E",
    "UTF8",
    "--locale=C",
  ]);
  try {
    await execFileAsync(initCmd, initArgs, { cwd: dir });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(error as { stderr?: string }).stderr ?? (error as Error).message}`);
  }

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  const kill = async (signal: "SIGKILL" | "SIGINT") => {
    const current = child;
    if (!current?.pid || !running()) return;
    process.kill(current.pid, signal);
    const escalate =
      signal === "SIGKILL"
        ? undefined
        : setTimeout(() => {
            if (running() && current.pid) process.kill(current.pid, "SIGKILL");
          }, 15_000);
    await exited;
    if (escalate) clearTimeout(escalate);
  };

  const start = async () => {
    if (running()) throw new Error(`postgres on port ${port} is already running`);
    const [cmd, args] = asServerUser(join(bin, "postgres"), [
      "-D",
      data,
      "-p",
      String(port),
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "unix_socket_directories=",
      ...(options.durable ? [] : ["-c", "fsync=off", "-c", "full_page_writes=off"]),
      "-c",
      "max_connections=200",
      "-c",
      "logging_collector=off",
      "-c",
      "log_min_messages=fatal",
    ]);
    const launched = spawn(cmd, args, { cwd: dir, stdio: ["ignore", "ignore", "ignore"] });
    if (launched.pid === undefined) throw new Error("could not start postgres");
    child = launched;
    exited = new Promise((resolve) => launched.once("exit", () => resolve()));
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (!running()) throw new Error(`postgres on port ${port} exited with code ${launched.exitCode}`);
      if (await accepts(port)) {
        // The port opens before the server accepts sessions (recovery after a crash): wait for a real query.
        try {
          const pg = await import("pg");
          const client = new pg.default.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
          await client.connect();
          await client.query("SELECT 1");
          await client.end();
          return;
        } catch {
          // still starting
        }
      }
      if (Date.now() > deadline) {
        await kill("SIGKILL");
        throw new Error(`postgres on port ${port} did not accept connections within ${startTimeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const server: LocalPostgres = {
    url,
    port,
    get pid() {
      if (!child?.pid) throw new Error("postgres not started");
      return child.pid;
    },
    get running() {
      return running();
    },
    kill,
    start,
    stop: async () => {
      await kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await start();
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

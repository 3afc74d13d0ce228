/**
 * Throwaway local redis-server processes on free loopback ports, for the test suite, the demo and the benchmark.
 * Each server runs in the foreground as our child, in its own temporary directory, and is stopped by pid.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export interface LocalRedis {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

export interface LocalCluster {
  /** `host:port` of each master, comma-separated (the REDIS_CLUSTER_NODES format). */
  readonly nodes: string;
  readonly servers: readonly LocalRedis[];
  stop(): Promise<void>;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A free port p whose cluster bus port (p + 10000) is free too. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    if ((await portIsFree(port)) && (await portIsFree(port + 10000))) return port;
  }
  throw new Error("no free loopback port found for redis-server");
}

async function waitForPing(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited with code ${child.exitCode}`);
    try {
      const { stdout } = await execFileAsync("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "ping"]);
      if (stdout.trim() === "PONG") return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
}

/** Starts one redis-server; `extraArgs` are passed as command-line config (e.g. ["--appendonly", "yes"]). */
export async function startRedis(extraArgs: readonly string[] = [], fixedPort?: number): Promise<LocalRedis> {
  const port = fixedPort ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), "langgraph-redis-"));
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"];
  args.push("--daemonize", "no", "--protected-mode", "yes", "--loglevel", "warning", ...extraArgs);
  const child = spawn("redis-server", args, { stdio: ["ignore", "ignore", "inherit"], detached: false });
  const pid = child.pid;
  if (pid === undefined) throw new Error("could not start redis-server (is it on PATH?)");
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(pid, "SIGKILL");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPing(port, child, 10_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `redis://127.0.0.1:${port}`, port, pid, stop };
}

/** Starts `masters` cluster-enabled servers, joins them with redis-cli --cluster create, waits for cluster_state:ok. */
export async function startCluster(masters = 3): Promise<LocalCluster> {
  const servers: LocalRedis[] = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    for (let i = 0; i < masters; i++) {
      servers.push(
        await startRedis([
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          "nodes.conf",
          "--cluster-node-timeout",
          "2000",
        ]),
      );
    }
    const addresses = servers.map((s) => `127.0.0.1:${s.port}`);
    await execFileAsync("redis-cli", ["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"]);
    const deadline = Date.now() + 20_000;
    for (const server of servers) {
      for (;;) {
        const { stdout } = await execFileAsync("redis-cli", ["-p", String(server.port), "cluster", "info"]);
        if (stdout.includes("cluster_state:ok")) break;
        if (Date.now() > deadline) throw new Error(`cluster did not reach cluster_state:ok: ${stdout}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return { nodes: addresses.join(","), servers, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

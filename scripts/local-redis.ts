/**
 * Throwaway local redis-server processes on free loopback ports, for the test suite, the demo and the benchmark.
 * Each server runs in the foreground as our child, in its own temporary directory, and is stopped by pid.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
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

async function waitForPing(
  port: number,
  child: ChildProcess,
  timeoutMs: number,
  cliArgs: readonly string[] = [],
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited with code ${child.exitCode}`);
    try {
      const { stdout } = await execFileAsync("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...cliArgs, "ping"]);
      if (stdout.trim() === "PONG") return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
}

/** The base arguments every local server gets; later arguments (extraArgs) override them. */
function baseArgs(port: number, dir: string): string[] {
  return [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    "no",
    "--daemonize",
    "no",
    "--protected-mode",
    "yes",
    "--loglevel",
    "warning",
  ];
}

interface Launched {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<void>;
}

function launch(args: readonly string[]): Launched {
  const child = spawn("redis-server", args, { stdio: ["ignore", "ignore", "inherit"], detached: false });
  const pid = child.pid;
  if (pid === undefined) throw new Error("could not start redis-server (is it on PATH?)");
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return { child, pid, exited };
}

function isRunning(launched: Launched): boolean {
  return launched.child.exitCode === null && launched.child.signalCode === null;
}

/** Starts one redis-server; `extraArgs` are passed as command-line config (e.g. ["--appendonly", "yes"]). */
export async function startRedis(extraArgs: readonly string[] = [], fixedPort?: number): Promise<LocalRedis> {
  const port = fixedPort ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), "langgraph-redis-"));
  const launched = launch([...baseArgs(port, dir), ...extraArgs]);
  const stop = async () => {
    if (isRunning(launched)) {
      process.kill(launched.pid, "SIGKILL");
      await launched.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPing(port, launched.child, 10_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `redis://127.0.0.1:${port}`, port, pid: launched.pid, stop };
}

export interface LocalSentinels {
  /** The master name the sentinels watch (the `name` option of an ioredis Sentinel client). */
  readonly name: string;
  readonly ports: readonly number[];
  /** The port of the master the sentinels currently name. */
  masterPort(): Promise<number>;
  stop(): Promise<void>;
}

/** How startSentinels' sentinels listen: TLS only, with these config lines, reached by redis-cli with cliArgs. */
export interface SentinelTls {
  /** Config lines after `tls-port` (certificate files, `tls-replication yes` to reach a TLS-only master). */
  readonly config: readonly string[];
  readonly cliArgs: readonly string[];
}

/**
 * Starts `count` sentinels (redis-server --sentinel, each with its config file in a temporary directory) watching the
 * master on `masterPort` with a quorum of `count - 1`, quick to call it down (1 s), and waits until each of them knows
 * `replicas` replicas of it and the other sentinels. With `tls`, they listen for TLS only (scripts/local-tls.ts).
 */
export async function startSentinels(
  masterPort: number,
  replicas: number,
  count = 3,
  tls?: SentinelTls,
): Promise<LocalSentinels> {
  const name = "agents";
  const started: { port: number; launched: Launched; dir: string }[] = [];
  const stop = async () => {
    await Promise.all(
      started.map(async ({ launched, dir }) => {
        if (isRunning(launched)) {
          process.kill(launched.pid, "SIGKILL");
          await launched.exited;
        }
        rmSync(dir, { recursive: true, force: true });
      }),
    );
  };
  // redis-cli prints a reply's elements one per line when its output is not a terminal.
  const cliArgs = tls?.cliArgs ?? [];
  const ask = async (port: number, ...args: string[]) =>
    (await execFileAsync("redis-cli", ["-p", String(port), ...cliArgs, ...args])).stdout.trim().split("\n");
  try {
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), "langgraph-redis-sentinel-"));
      const config = join(dir, "sentinel.conf");
      writeFileSync(
        config,
        [
          ...(tls ? ["port 0", `tls-port ${port}`, ...tls.config] : [`port ${port}`]),
          "bind 127.0.0.1",
          `dir ${dir}`,
          `sentinel monitor ${name} 127.0.0.1 ${masterPort} ${Math.max(1, count - 1)}`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 10000`,
          "",
        ].join("\n"),
      );
      const launched = launch([config, "--sentinel", "--loglevel", "warning"]);
      started.push({ port, launched, dir });
      await waitForPing(port, launched.child, 10_000, cliArgs);
    }
    for (const { port } of started) {
      await pollUntil(`the sentinel on port ${port} to see the whole group`, 30_000, async () => {
        const master = await ask(port, "sentinel", "master", name);
        const known = (field: string) => Number(master[master.indexOf(field) + 1]);
        return known("num-slaves") === replicas && known("num-other-sentinels") === count - 1;
      });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    name,
    ports: started.map((s) => s.port),
    masterPort: async () => {
      const [, port] = await ask(started[0]?.port as number, "sentinel", "get-master-addr-by-name", name);
      return Number(port);
    },
    stop,
  };
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

// ---- servers for fault tests: restartable on a fixed port, and a cluster with replicas ----

export type StopSignal = "SIGTERM" | "SIGKILL";

/** A server that can be killed and started again on the same port with the same directory (so AOF/RDB and
 * nodes.conf survive). `pid` is the current process; it changes on each start. */
export interface RestartableRedis extends LocalRedis {
  readonly dir: string;
  readonly running: boolean;
  /** Sends `signal` to the current process and waits for it to exit (SIGTERM escalates to SIGKILL after 15 s). */
  kill(signal: StopSignal): Promise<void>;
  /** Starts the server again on the same port and directory; resolves once it answers PING (data loaded). */
  start(): Promise<void>;
  restart(signal: StopSignal): Promise<void>;
}

export interface RestartableRedisOptions {
  /** Extra command-line config, e.g. ["--appendonly", "yes", "--appendfsync", "always"]. */
  readonly args?: readonly string[];
  /** Port to use; a free one is picked when omitted. It stays the same across restarts. */
  readonly port?: number;
  /** Extra redis-cli arguments for the readiness PING (e.g. TLS flags). */
  readonly cliArgs?: readonly string[];
  /** Ready timeout per start, in ms (loading a large AOF takes a while). */
  readonly startTimeoutMs?: number;
  /** URL scheme of `url`: "rediss" for a TLS-only server. */
  readonly scheme?: "redis" | "rediss";
}

export async function startRestartableRedis(options: RestartableRedisOptions = {}): Promise<RestartableRedis> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), "langgraph-redis-"));
  const args = [...baseArgs(port, dir), ...(options.args ?? [])];
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  let current: Launched | undefined;

  const kill = async (signal: StopSignal) => {
    const launched = current;
    if (!launched || !isRunning(launched)) return;
    process.kill(launched.pid, signal);
    if (signal === "SIGTERM") {
      const escalate = setTimeout(() => {
        if (isRunning(launched)) process.kill(launched.pid, "SIGKILL");
      }, 15_000);
      await launched.exited;
      clearTimeout(escalate);
    } else {
      await launched.exited;
    }
  };
  const start = async () => {
    if (current && isRunning(current)) throw new Error(`redis-server on port ${port} is already running`);
    current = launch(args);
    await waitForPing(port, current.child, startTimeoutMs, options.cliArgs);
  };
  const server: RestartableRedis = {
    url: `${options.scheme ?? "redis"}://127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      if (!current) throw new Error("server not started");
      return current.pid;
    },
    get running() {
      return current !== undefined && isRunning(current);
    },
    kill,
    start,
    restart: async (signal) => {
      await kill(signal);
      await start();
    },
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

/** One line of CLUSTER NODES, reduced to what the fault tests need. */
export interface ClusterNodeState {
  readonly id: string;
  readonly port: number;
  readonly role: "master" | "replica";
  /** The master's node id, for a replica. */
  readonly masterId: string | undefined;
  /** Flagged `fail` (or `fail?`) by the node that was asked. */
  readonly failing: boolean;
  readonly slotRanges: number;
}

export interface ReplicatedCluster {
  /** `host:port` of every node, comma-separated (the REDIS_CLUSTER_NODES format). */
  readonly nodes: string;
  readonly servers: readonly RestartableRedis[];
  /** The cluster as a live node sees it. */
  topology(): Promise<ClusterNodeState[]>;
  /** The ports of the current masters that serve slots. */
  masterPorts(): Promise<number[]>;
  /** The port of the master currently serving `key`'s slot. */
  masterPortForKey(key: string): Promise<number>;
  /** Kills the server on `port` by its pid (remembering its replicas, for waitForPromotion); returns the pid. */
  kill(port: number, signal: StopSignal): Promise<number>;
  /** Waits until a replica of the killed master `killedPort` serves its slots and every live node reports
   * cluster_state:ok; returns the promoted node's port. */
  waitForPromotion(killedPort: number, timeoutMs?: number): Promise<number>;
  /** Cuts the replication links of the master on `port` and keeps them down (a password the replicas lack), so
   * the master acknowledges writes its replicas never receive. Clients already connected keep working. */
  isolateReplicas(port: number): Promise<void>;
  /** Starts the killed node on `port` again and waits until it serves as a replica with its link up. */
  rejoin(port: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const clusterArgs = (nodeTimeoutMs: number) => [
  "--cluster-enabled",
  "yes",
  "--cluster-config-file",
  "nodes.conf",
  "--cluster-node-timeout",
  String(nodeTimeoutMs),
  // Fault tests kill masters on purpose: let a replica take over however long it was cut off.
  "--cluster-replica-validity-factor",
  "0",
  // Replicas sync at once instead of after the default 5 s delay.
  "--repl-diskless-sync-delay",
  "0",
];

function parseClusterNodes(text: string): ClusterNodeState[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const [id = "", address = "", flags = "", master = "-", , , , , ...slots] = line.trim().split(" ");
      const port = Number(address.split("@")[0]?.split(":")[1]);
      const flagList = flags.split(",");
      return {
        id,
        port,
        role: flagList.includes("master") ? "master" : "replica",
        masterId: master === "-" ? undefined : master,
        failing: flagList.includes("fail") || flagList.includes("fail?"),
        slotRanges: slots.filter((s) => !s.startsWith("[")).length,
      };
    });
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args]);
  return stdout;
}

async function pollUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // a node not answering yet counts as "not yet"
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface ReplicatedClusterOptions {
  readonly masters?: number;
  readonly replicasPerMaster?: number;
  /** cluster-node-timeout in ms: how long a master may be unreachable before its replica takes over. */
  readonly nodeTimeoutMs?: number;
  /** Extra command-line config for every node (e.g. appendonly). */
  readonly args?: readonly string[];
}

/** Starts masters × (1 + replicasPerMaster) restartable cluster nodes, creates the cluster and waits until every
 * node reports cluster_state:ok and every replica's link to its master is up. */
export async function startReplicatedCluster(options: ReplicatedClusterOptions = {}): Promise<ReplicatedCluster> {
  const masters = options.masters ?? 3;
  const replicasPerMaster = options.replicasPerMaster ?? 1;
  const servers: RestartableRedis[] = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  const live = () => servers.filter((s) => s.running);
  const topology = async () => {
    for (const server of live()) {
      try {
        return parseClusterNodes(await cli(server.port, "cluster", "nodes"));
      } catch {
        // ask the next live node
      }
    }
    throw new Error("no live cluster node answered CLUSTER NODES");
  };
  const allOk = async () => {
    for (const server of live()) {
      if (!(await cli(server.port, "cluster", "info")).includes("cluster_state:ok")) return false;
    }
    return true;
  };
  try {
    const args = [...clusterArgs(options.nodeTimeoutMs ?? 2000), ...(options.args ?? [])];
    for (let i = 0; i < masters * (1 + replicasPerMaster); i++) {
      servers.push(await startRestartableRedis({ args }));
    }
    const addresses = servers.map((s) => `127.0.0.1:${s.port}`);
    await execFileAsync("redis-cli", [
      "--cluster",
      "create",
      ...addresses,
      "--cluster-replicas",
      String(replicasPerMaster),
      "--cluster-yes",
    ]);
    await pollUntil("cluster_state:ok on every node", 30_000, allOk);
    await pollUntil("every replica linked to its master", 30_000, async () => {
      const nodes = await topology();
      if (nodes.filter((n) => n.role === "replica").length !== masters * replicasPerMaster) return false;
      for (const node of nodes.filter((n) => n.role === "replica")) {
        if (!(await cli(node.port, "info", "replication")).includes("master_link_status:up")) return false;
      }
      return true;
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const replicasOf = new Map<number, Set<number>>();
  const byPort = (port: number) => {
    const server = servers.find((s) => s.port === port);
    if (!server) throw new Error(`no cluster node on port ${port}`);
    return server;
  };
  return {
    nodes: servers.map((s) => `127.0.0.1:${s.port}`).join(","),
    servers,
    topology,
    masterPortForKey: async (key) => {
      const port = live()[0]?.port;
      if (port === undefined) throw new Error("no live cluster node");
      const slot = Number((await cli(port, "cluster", "keyslot", key)).trim());
      const ranges = JSON.parse(await cli(port, "-2", "--json", "cluster", "slots")) as [
        number,
        number,
        [string, number],
      ][];
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      if (!range) throw new Error(`no master serves slot ${slot}`);
      return range[2][1];
    },
    masterPorts: async () =>
      (await topology()).filter((n) => n.role === "master" && !n.failing && n.slotRanges > 0).map((n) => n.port),
    kill: async (port, signal) => {
      const server = byPort(port);
      const before = await topology();
      const id = before.find((n) => n.port === port)?.id;
      replicasOf.set(port, new Set(before.filter((n) => n.masterId === id).map((n) => n.port)));
      const pid = server.pid;
      await server.kill(signal);
      return pid;
    },
    waitForPromotion: async (killedPort, timeoutMs = 60_000) => {
      let promoted: number | undefined;
      await pollUntil(`a replica of the master on port ${killedPort} to take over`, timeoutMs, async () => {
        const candidates = replicasOf.get(killedPort) ?? new Set<number>();
        const nodes = await topology();
        const successor = nodes.find((n) => candidates.has(n.port) && n.role === "master" && n.slotRanges > 0);
        if (!successor || !(await allOk())) return false;
        promoted = successor.port;
        return true;
      });
      // pollUntil returned, so `promoted` was set by the check above
      return promoted as number;
    },
    isolateReplicas: async (port) => {
      await cli(port, "config", "set", "requirepass", "isolated-from-replicas");
      await cli(port, "-a", "isolated-from-replicas", "--no-auth-warning", "client", "kill", "type", "replica");
    },
    rejoin: async (port, timeoutMs = 60_000) => {
      await byPort(port).start();
      await pollUntil(`the node on port ${port} to rejoin as a replica`, timeoutMs, async () => {
        const node = (await topology()).find((n) => n.port === port);
        if (node?.role !== "replica" || node.failing) return false;
        return (await cli(port, "info", "replication")).includes("master_link_status:up") && (await allOk());
      });
    },
    stop,
  };
}

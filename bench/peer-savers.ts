/**
 * The other checkpointers the peers section runs beside RedisSaver: SqliteSaver (better-sqlite3, WAL mode) and
 * PostgresSaver. They live in bench/peers, a package folder of their own, so `npm ci` and `npm test` never pay for
 * them: better-sqlite3 compiles from source where no prebuilt binary can be fetched (python3, make and a C++
 * compiler; a few minutes). `npm run bench:peers` installs them, and the peers section does so on first use (unless
 * BENCH_PEERS_INSTALL=0). Their @langchain peers resolve to the project's own copies (legacy-peer-deps in
 * bench/peers/.npmrc), so every saver runs against the same LangGraph.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { type LocalPostgres, startPostgres } from "../scripts/local-postgres.js";
import type { Progress } from "./progress.js";

const PEERS_DIR = join(dirname(fileURLToPath(import.meta.url)), "peers");
const SQLITE_PACKAGE = "@langchain/langgraph-checkpoint-sqlite";
const POSTGRES_PACKAGE = "@langchain/langgraph-checkpoint-postgres";

/** A peer saver ready to measure, or why it is not there. */
export type Peer =
  | {
      readonly name: string;
      readonly saver: BaseCheckpointSaver;
      readonly detail: string;
      /** Lets the store finish the background work a bulk write leaves (before timed rounds). */
      settle?(): Promise<void>;
      close(): Promise<void>;
    }
  | { readonly name: string; readonly saver?: undefined; readonly missing: string };

function resolvePeer(pkg: string): string | undefined {
  try {
    return createRequire(join(PEERS_DIR, "package.json")).resolve(pkg);
  } catch {
    return undefined;
  }
}

function npmInstall(progress: Progress, args: readonly string[]): string | undefined {
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const result = spawnSync(npm, ["install", ...args], { cwd: PEERS_DIR, encoding: "utf8" });
  if (result.status === 0) return undefined;
  const output = `${result.stderr ?? ""}\n${result.stdout ?? ""}`.trim();
  const lines = output.split("\n").filter((line) => /err/i.test(line));
  progress.step(`npm install ${args.join(" ")} in bench/peers failed:\n${output.split("\n").slice(-15).join("\n")}`);
  return (lines[0] ?? output.split("\n")[0] ?? `exit code ${result.status}`).trim();
}

/**
 * Installs bench/peers when a peer package is missing (once per run). Returns why a package could not be installed,
 * per package name.
 */
export function ensurePeersInstalled(progress: Progress): Map<string, string> {
  const failures = new Map<string, string>();
  if (resolvePeer(SQLITE_PACKAGE) && resolvePeer(POSTGRES_PACKAGE)) return failures;
  if (process.env.BENCH_PEERS_INSTALL === "0") {
    const reason = "not installed (BENCH_PEERS_INSTALL=0; run `npm run bench:peers`)";
    for (const pkg of [SQLITE_PACKAGE, POSTGRES_PACKAGE]) if (!resolvePeer(pkg)) failures.set(pkg, reason);
    return failures;
  }
  progress.step(
    "installing the peer checkpointers into bench/peers (first run only; better-sqlite3 compiles from source " +
      "and needs python3, make and a C++ compiler: a few minutes)",
  );
  const failed = npmInstall(progress, []);
  if (failed !== undefined) {
    // better-sqlite3 failing to build must not cost us PostgresSaver: install that one on its own.
    if (!resolvePeer(POSTGRES_PACKAGE)) {
      const pgFailed = npmInstall(progress, ["--no-save", `${POSTGRES_PACKAGE}@1.0.5`]);
      if (pgFailed !== undefined) failures.set(POSTGRES_PACKAGE, `cannot be installed: ${pgFailed}`);
    }
  }
  for (const pkg of [SQLITE_PACKAGE, POSTGRES_PACKAGE]) {
    if (!resolvePeer(pkg) && !failures.has(pkg)) failures.set(pkg, `cannot be installed: ${failed ?? "unknown"}`);
  }
  return failures;
}

interface SqliteSaverModule {
  SqliteSaver: {
    fromConnString(path: string): BaseCheckpointSaver & { db: { close(): void; pragma(sql: string): unknown } };
  };
}

interface PostgresSaverModule {
  PostgresSaver: {
    fromConnString(
      url: string,
      options?: { schema?: string },
    ): BaseCheckpointSaver & {
      setup(): Promise<void>;
      end(): Promise<void>;
    };
  };
}

async function importPeer<T>(pkg: string): Promise<T> {
  const path = resolvePeer(pkg);
  if (path === undefined) throw new Error(`${pkg} is not installed in bench/peers`);
  return (await import(pathToFileURL(path).href)) as T;
}

/** SqliteSaver on a fresh database file in WAL mode (its setup sets journal_mode=WAL). */
export async function openSqlite(failures: ReadonlyMap<string, string>): Promise<Peer> {
  const name = "SqliteSaver";
  const failure = failures.get(SQLITE_PACKAGE);
  if (failure !== undefined) return { name, missing: `${SQLITE_PACKAGE} ${failure}` };
  try {
    const { SqliteSaver } = await importPeer<SqliteSaverModule>(SQLITE_PACKAGE);
    const dir = mkdtempSync(join(tmpdir(), "langgraph-redis-bench-sqlite-"));
    const saver = SqliteSaver.fromConnString(join(dir, "checkpoints.db"));
    // Any read runs the saver's setup (tables, WAL).
    await saver.getTuple({ configurable: { thread_id: "setup" } });
    const journal = saver.db.pragma("journal_mode") as { journal_mode: string }[];
    const synchronous = saver.db.pragma("synchronous") as { synchronous: number }[];
    const level = ["OFF", "NORMAL", "FULL", "EXTRA"][synchronous[0]?.synchronous ?? -1] ?? "unknown";
    return {
      name,
      saver,
      detail: `better-sqlite3, a database file in the temp dir, journal_mode=${journal[0]?.journal_mode}, synchronous=${level}`,
      close: async () => {
        saver.db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    return { name, missing: `cannot be opened: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * PostgresSaver on POSTGRES_URL (in a schema of its own, dropped afterwards) or on a throwaway local PostgreSQL
 * started like the test harness starts one, but durable: fsync on, full_page_writes on, synchronous_commit on.
 */
export async function openPostgres(failures: ReadonlyMap<string, string>, progress: Progress): Promise<Peer> {
  const name = "PostgresSaver";
  const failure = failures.get(POSTGRES_PACKAGE);
  if (failure !== undefined) return { name, missing: `${POSTGRES_PACKAGE} ${failure}` };
  let local: LocalPostgres | undefined;
  try {
    const { PostgresSaver } = await importPeer<PostgresSaverModule>(POSTGRES_PACKAGE);
    let url = process.env.POSTGRES_URL;
    if (!url) {
      local = await startPostgres({ durable: true });
      url = local.url;
      progress.step(`started a throwaway PostgreSQL on port ${local.port} (pid ${local.pid})`);
    }
    const schema = `lgrbench_${process.pid}_${Date.now()}`;
    const saver = PostgresSaver.fromConnString(url, { schema });
    await saver.setup();
    const pg = await import("pg");
    const client = new pg.default.Client({ connectionString: url });
    client.on("error", () => undefined);
    await client.connect();
    const setting = async (key: string) => (await client.query(`SHOW ${key}`)).rows[0]?.[key] as string;
    const detail =
      `${(await setting("server_version")).split(" ")[0]} (${local ? "throwaway local server" : "POSTGRES_URL"}), ` +
      `synchronous_commit=${await setting("synchronous_commit")}, fsync=${await setting("fsync")}`;
    const server = local;
    return {
      name,
      saver,
      detail,
      // After the bulk fill, autovacuum and the checkpointer would run during the timed rounds and take a core
      // from every server process (Redis too): do that work now. CHECKPOINT needs a superuser (ignored without).
      settle: async () => {
        await client.query("VACUUM ANALYZE");
        await client.query("CHECKPOINT").catch(() => undefined);
      },
      close: async () => {
        await saver.end();
        if (!server) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.end();
        await server?.stop();
      },
    };
  } catch (error) {
    await local?.stop();
    return { name, missing: `cannot be started: ${error instanceof Error ? error.message : String(error)}` };
  }
}

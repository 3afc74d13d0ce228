/**
 * TLS for local test servers: a throwaway certificate authority and server/client certificates made with openssl,
 * and a redis-server that only speaks TLS. Used by the TLS tests; nothing here is meant for production.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  freePort,
  type LocalCluster,
  type RestartableRedis,
  type SentinelTls,
  startRestartableRedis,
} from "./local-redis.js";

const execFileAsync = promisify(execFile);

export interface TestCertificates {
  readonly dir: string;
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** PEM text, for ioredis `tls: { ca, cert, key }`. */
  readonly ca: string;
  readonly clientCert: string;
  readonly clientKey: string;
  remove(): void;
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  await execFileAsync("openssl", args, { cwd: dir });
}

/** Makes a CA, a server certificate for 127.0.0.1/localhost and a client certificate, valid for one day. */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = mkdtempSync(join(tmpdir(), "langgraph-redis-tls-"));
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl(
    dir,
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "1",
    "-subj",
    "/CN=test CA",
  );
  writeFileSync(join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  writeFileSync(join(dir, "client.ext"), "extendedKeyUsage=clientAuth\n");
  for (const [name, subject] of [
    ["server", "/CN=localhost"],
    ["client", "/CN=test client"],
  ] as const) {
    await openssl(dir, "req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject);
    await openssl(
      dir,
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.crt`,
      "-days",
      "1",
      "-extfile",
      `${name}.ext`,
    );
  }
  const file = (name: string) => join(dir, name);
  return {
    dir,
    caFile: file("ca.crt"),
    serverCertFile: file("server.crt"),
    serverKeyFile: file("server.key"),
    clientCertFile: file("client.crt"),
    clientKeyFile: file("client.key"),
    ca: readFileSync(file("ca.crt"), "utf8"),
    clientCert: readFileSync(file("client.crt"), "utf8"),
    clientKey: readFileSync(file("client.key"), "utf8"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface TlsRedisOptions {
  /** "no": any client that trusts the server may connect; "yes": clients must present a certificate from the CA. */
  readonly authClients?: "yes" | "no";
  readonly args?: readonly string[];
}

function tlsArgs(certs: TestCertificates, port: number, authClients: "yes" | "no"): string[] {
  return [
    "--port",
    "0",
    "--tls-port",
    String(port),
    "--tls-cert-file",
    certs.serverCertFile,
    "--tls-key-file",
    certs.serverKeyFile,
    "--tls-ca-cert-file",
    certs.caFile,
    "--tls-auth-clients",
    authClients,
  ];
}

/** startSentinels' `tls` for sentinels that speak TLS only, to clients and to the (TLS-only) servers they watch. */
export function sentinelTls(certs: TestCertificates): SentinelTls {
  return {
    config: [
      `tls-cert-file ${certs.serverCertFile}`,
      `tls-key-file ${certs.serverKeyFile}`,
      `tls-ca-cert-file ${certs.caFile}`,
      "tls-auth-clients no",
      "tls-replication yes",
    ],
    cliArgs: tlsCliArgs(certs),
  };
}

/** redis-cli flags to reach a server of these certificates. */
export function tlsCliArgs(certs: TestCertificates): string[] {
  return ["--tls", "--cacert", certs.caFile, "--cert", certs.clientCertFile, "--key", certs.clientKeyFile];
}

/** Starts a redis-server listening for TLS only (the plain port is off). Its `url` is rediss://127.0.0.1:<port>. */
export async function startTlsRedis(certs: TestCertificates, options: TlsRedisOptions = {}): Promise<RestartableRedis> {
  const port = await freePort();
  return startRestartableRedis({
    port,
    scheme: "rediss",
    args: [...tlsArgs(certs, port, options.authClients ?? "no"), ...(options.args ?? [])],
    cliArgs: tlsCliArgs(certs),
  });
}

/** A Redis Cluster whose clients, cluster bus and replication all speak TLS only. */
export async function startTlsCluster(certs: TestCertificates, masters = 3): Promise<LocalCluster> {
  const servers: RestartableRedis[] = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  const cli = tlsCliArgs(certs);
  try {
    for (let i = 0; i < masters; i++) {
      servers.push(
        await startTlsRedis(certs, {
          args: [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            "2000",
            "--tls-cluster",
            "yes",
            "--tls-replication",
            "yes",
          ],
        }),
      );
    }
    const addresses = servers.map((s) => `127.0.0.1:${s.port}`);
    await execFileAsync("redis-cli", [
      ...cli,
      "--cluster",
      "create",
      ...addresses,
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ]);
    const deadline = Date.now() + 30_000;
    for (const server of servers) {
      for (;;) {
        const { stdout } = await execFileAsync("redis-cli", [...cli, "-p", String(server.port), "cluster", "info"]);
        if (stdout.includes("cluster_state:ok")) break;
        if (Date.now() > deadline) throw new Error(`TLS cluster did not reach cluster_state:ok: ${stdout}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return { nodes: addresses.join(","), servers, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * TLS for local test servers: a throwaway certificate authority and server/client certificates made with openssl,
 * and a redis-server that only speaks TLS. Used by the TLS tests; nothing here is meant for production.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, type RestartableRedis, startRestartableRedis } from "./local-redis.js";

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

/** Starts a redis-server listening for TLS only (the plain port is off). Its `url` is rediss://127.0.0.1:<port>. */
export async function startTlsRedis(certs: TestCertificates, options: TlsRedisOptions = {}): Promise<RestartableRedis> {
  const port = await freePort();
  return startRestartableRedis({
    port,
    scheme: "rediss",
    args: [
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
      options.authClients ?? "no",
      ...(options.args ?? []),
    ],
    cliArgs: ["--tls", "--cacert", certs.caFile, "--cert", certs.clientCertFile, "--key", certs.clientKeyFile],
  });
}

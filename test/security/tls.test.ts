import type { Redis } from "ioredis";
import { type LocalCluster, type RestartableRedis, startSentinels } from "../../scripts/local-redis.js";
import {
  makeTestCertificates,
  sentinelTls,
  startTlsCluster,
  startTlsRedis,
  type TestCertificates,
} from "../../scripts/local-tls.js";
import { clientFromUrl, type RedisClient } from "../../src/client.js";
import { canStartServers } from "../helpers/local-servers.js";
import { runWorkload } from "./workload.js";

const failFast = { maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5000 } as const;

describe.skipIf(!canStartServers)("TLS over rediss:// (needs redis-server on PATH)", () => {
  let certs: TestCertificates;
  let server: RestartableRedis;
  let mutual: RestartableRedis;
  let cluster: LocalCluster;
  const opened: RedisClient[] = [];
  const open = (...args: Parameters<typeof clientFromUrl>) => {
    const client = clientFromUrl(...args);
    client.on("error", () => {});
    opened.push(client);
    return client;
  };

  beforeAll(async () => {
    certs = await makeTestCertificates();
    server = await startTlsRedis(certs);
    mutual = await startTlsRedis(certs, { authClients: "yes" });
    cluster = await startTlsCluster(certs, 3);
  });
  afterAll(async () => {
    for (const client of opened) client.disconnect();
    await Promise.all([server?.stop(), mutual?.stop(), cluster?.stop()]);
    certs?.remove();
  });

  it("connects with the server's CA and round-trips a value", async () => {
    expect(server.url).toMatch(/^rediss:\/\/127\.0\.0\.1:\d+$/);
    const client = open(server.url, { ...failFast, tls: { ca: certs.ca } });
    await client.set("greeting", "héllo ✓");
    expect(await client.get("greeting")).toBe("héllo ✓");
  });

  it("runs every public operation of the library over it", async () => {
    const client = open(server.url, { ...failFast, tls: { ca: certs.ca } });
    const { operations } = await runWorkload(client, "over-tls");
    expect(operations).toBeGreaterThan(20);
  });

  it("runs every public operation on a TLS-only cluster opened from a rediss+cluster:// URL", async () => {
    const client = open(`rediss+cluster://${cluster.nodes}`, { ...failFast, tls: { ca: certs.ca } });
    const { operations } = await runWorkload(client, "cluster-tls");
    expect(operations).toBeGreaterThan(20);
  });

  it("runs every public operation on a TLS-only master found through TLS-only sentinels (rediss+sentinel://)", async () => {
    const master = await startTlsRedis(certs, { args: ["--tls-replication", "yes"] });
    const sentinels = await startSentinels(master.port, 0, 1, sentinelTls(certs));
    try {
      const client = open(`rediss+sentinel://127.0.0.1:${sentinels.ports[0]}/${sentinels.name}`, {
        ...failFast,
        tls: { ca: certs.ca },
      });
      const { operations } = await runWorkload(client, "sentinel-tls");
      expect(operations).toBeGreaterThan(20);
      expect(Number(/tcp_port:(\d+)/.exec(await (client as Redis).info("server"))?.[1])).toBe(master.port);
    } finally {
      await sentinels.stop();
      await master.stop();
    }
  });

  it("rejects a server certificate it cannot verify", async () => {
    const client = open(server.url, { ...failFast, tls: {} });
    const emitted: Error[] = [];
    client.on("error", (error: Error) => emitted.push(error));
    await expect(client.ping()).rejects.toThrow();
    expect(emitted.map((e) => e.message).join("\n")).toMatch(/certificate/i);
  });

  it("cannot talk plain text to the TLS port", async () => {
    const client = open(server.url.replace("rediss://", "redis://"), failFast);
    await expect(client.ping()).rejects.toThrow();
  });

  it("presents a client certificate when the server requires one", async () => {
    const without = open(mutual.url, { ...failFast, tls: { ca: certs.ca } });
    await expect(without.ping()).rejects.toThrow();
    const client = open(mutual.url, {
      ...failFast,
      tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey },
    });
    expect(await client.ping()).toBe("PONG");
  });
});

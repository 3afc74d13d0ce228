import { Cluster, Redis, type RedisOptions } from "ioredis";
import { UnsupportedServerError } from "./errors.js";

/** The clients the library accepts: a standalone/sentinel connection or a cluster. */
export type RedisClient = Redis | Cluster;

export function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

/** Clients clientFromUrl opened and no component has taken yet. */
const opened = new WeakSet<RedisClient>();

/**
 * True once for a client clientFromUrl opened: the component built on it (through a `fromUrl` factory) owns it and
 * closes it in close(). A client the user handed in is never the library's to close.
 */
export function takeOpenedClient(client: RedisClient): boolean {
  return opened.delete(client);
}

/** For the `fromUrl` factories: opens a client that the component constructed on it takes and closes. */
export function openOwnedClient(url: string, options: RedisOptions = {}): RedisClient {
  const client = clientFromUrl(url, options);
  opened.add(client);
  return client;
}

/**
 * Opens a client from a redis:// or rediss:// URL. A URL holding several comma-separated `host:port` entries after
 * `redis+cluster://` opens a Cluster. The caller owns (and closes) it.
 */
export function clientFromUrl(url: string, options: RedisOptions = {}): RedisClient {
  const clusterScheme = /^rediss?\+cluster:\/\//;
  if (clusterScheme.test(url)) {
    const tls = url.startsWith("rediss+");
    const rest = url.replace(clusterScheme, "");
    const at = rest.lastIndexOf("@");
    const auth = at >= 0 ? rest.slice(0, at) : "";
    const hosts = (at >= 0 ? rest.slice(at + 1) : rest).replace(/\/.*$/, "");
    const [username, password] = auth.includes(":") ? auth.split(":", 2) : [undefined, auth || undefined];
    const nodes = hosts.split(",").map((hostPort) => {
      const [host = "127.0.0.1", port = "6379"] = hostPort.split(":");
      return { host, port: Number(port) };
    });
    return new Cluster(nodes, {
      redisOptions: {
        ...options,
        ...(username ? { username: decodeURIComponent(username) } : {}),
        ...(password ? { password: decodeURIComponent(password) } : {}),
        ...(tls ? { tls: options.tls ?? {} } : {}),
      },
    });
  }
  return new Redis(url, options);
}

/** Server version as [major, minor, patch], from INFO server (on a cluster: any one master). */
export async function serverVersion(client: RedisClient): Promise<[number, number, number]> {
  const node = isCluster(client) ? (client.nodes("master")[0] ?? client) : client;
  const info = await (node as Redis).info("server");
  const match = /(?:redis|valkey)_version:(\d+)\.(\d+)\.(\d+)/.exec(info);
  if (!match) return [0, 0, 0];
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/** Throws UnsupportedServerError when the server is older than `min` (e.g. [6, 2, 0]) for `feature`. */
export async function requireServerVersion(
  client: RedisClient,
  min: readonly [number, number, number],
  feature: string,
): Promise<void> {
  const version = await serverVersion(client);
  for (let i = 0; i < 3; i++) {
    const have = version[i] ?? 0;
    const need = min[i] ?? 0;
    if (have > need) return;
    if (have < need) {
      throw new UnsupportedServerError(
        `${feature} needs Redis ${min.join(".")} or newer; the server reports ${version.join(".")}`,
      );
    }
  }
}

import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";
import { InvalidOptionError, UnsupportedServerError } from "./errors.js";
import { log } from "./log.js";

/** The clients the library accepts: a standalone/sentinel connection or a cluster. */
export type RedisClient = Redis | Cluster;

export function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

/** Options of clientFromUrl (and the client options of the `fromUrl` factories). */
export interface ClientFromUrlOptions extends RedisOptions {
  /**
   * Options of the ioredis Cluster a `redis+cluster://` URL opens (`scaleReads`, `natMap`, `dnsLookup`,
   * `clusterRetryStrategy`, `slotsRefreshTimeout`...); ignored for other URLs. The other options apply to every node
   * connection. Default `clusterRetryStrategy`: give up after CLUSTER_CONNECT_ATTEMPTS failed rounds (a few seconds),
   * so an unreachable cluster or a wrong password fails commands with RedisConnectionError instead of queueing them
   * for ever.
   */
  cluster?: ClusterOptions;
}

/** Rounds of connection attempts to a cluster opened from a URL before its commands fail (unless overridden). */
export const CLUSTER_CONNECT_ATTEMPTS = 5;

/**
 * Rounds through the sentinels of a `redis+sentinel://` URL before a client that has never been ready gives up
 * (unless overridden): a wrong address or a group that is down fails fast, while a client that was ready rides out
 * the sentinels being away for any time, as ioredis does by default.
 */
export const SENTINEL_CONNECT_ATTEMPTS = 5;

/** The port of a sentinel named without one. */
const SENTINEL_DEFAULT_PORT = 26379;

/** Default connect timeout of a node connection opened from a cluster URL, in ms (unless overridden). */
const CLUSTER_CONNECT_TIMEOUT_MS = 5_000;

const URL_SCHEME = /^(rediss?)(\+cluster|\+sentinel)?:\/\//i;

/** The URL with its password replaced, for error messages (which never carry credentials). */
function redact(url: string): string {
  // scheme, user name, then everything up to the last "@" (a password may hold ":" or "@")
  return url.replace(/^([a-z+]*:\/\/[^:@/]*:).*@/i, "$1***@");
}

function badUrl(url: unknown, problem: string, cause?: unknown): InvalidOptionError {
  const expected =
    `a redis://, rediss://, redis+cluster://, rediss+cluster://, redis+sentinel:// or rediss+sentinel:// URL ` +
    `(${problem}; e.g. "redis://user:password@host:6379/0", "redis+cluster://user:password@host1:6379,host2:6379" ` +
    'or "redis+sentinel://user:password@sentinel1:26379,sentinel2:26379/mymaster")';
  return new InvalidOptionError(
    "clientFromUrl.url",
    typeof url === "string" ? redact(url) : url,
    expected,
    cause === undefined ? undefined : { cause },
  );
}

/** Parses `host[:port]` with the URL parser; throws a badUrl error for anything else. */
function parseHost(url: string, entry: string, defaultPort: number): { host: string; port: number } {
  let parsed: URL;
  try {
    parsed = new URL(`redis://${entry}`);
  } catch (error) {
    throw badUrl(url, `${JSON.stringify(entry)} is not a host:port`, error);
  }
  if (parsed.hostname === "" || parsed.username !== "" || parsed.pathname !== "" || parsed.search !== "") {
    throw badUrl(url, `${JSON.stringify(entry)} is not a host:port`);
  }
  const host = parsed.hostname.startsWith("[") ? parsed.hostname.slice(1, -1) : parsed.hostname;
  return { host, port: parsed.port === "" ? defaultPort : Number(parsed.port) };
}

/**
 * The parts of a `scheme://[user:password@]host[:port],host[:port]...[/path]` URL (a cluster's or a sentinel group's):
 * `tail` is what follows the hosts (path, query, fragment), for the caller to check.
 */
function parseHostsUrl(
  url: string,
  defaultPort: number,
): {
  tls: boolean;
  nodes: { host: string; port: number }[];
  tail: string;
  username?: string;
  password?: string;
} {
  const tls = url.toLowerCase().startsWith("rediss+");
  const rest = url.replace(URL_SCHEME, "");
  const end = rest.search(/[/?#]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  const tail = end < 0 ? "" : rest.slice(end);
  const at = authority.lastIndexOf("@");
  const hosts = authority.slice(at + 1);
  if (hosts === "") throw badUrl(url, "no hosts");
  const nodes = hosts.split(",").map((entry) => parseHost(url, entry, defaultPort));
  if (at < 0) return { tls, nodes, tail };
  let credentials: URL;
  try {
    // the userinfo alone, parsed by the URL parser: the password is everything after the first ":"
    credentials = new URL(`redis://${authority.slice(0, at)}@host`);
  } catch (error) {
    throw badUrl(url, "the user name or password is malformed (percent-encode reserved characters)", error);
  }
  const decode = (text: string): string | undefined => (text === "" ? undefined : decodeURIComponent(text));
  const username = decode(credentials.username);
  const password = decode(credentials.password);
  return {
    tls,
    nodes,
    tail,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
  };
}

/** The master name and database of a sentinel URL's path: `/name` or `/name/db`. */
function parseSentinelPath(url: string, tail: string): { name: string; db: number } {
  const match = /^\/([^/?#]+)(?:\/(\d+))?\/?$/.exec(tail);
  if (match === null) {
    throw badUrl(url, "a sentinel URL names its master after the hosts, as /name or /name/db, and takes no query");
  }
  let name: string;
  try {
    name = decodeURIComponent(match[1] as string);
  } catch (error) {
    throw badUrl(url, "the master name is malformed (percent-encode reserved characters)", error);
  }
  return { name, db: match[2] === undefined ? 0 : Number(match[2]) };
}

/**
 * The client of a `redis+sentinel://` URL: an ioredis Redis that asks the sentinels for the master of `name` and
 * follows it through failovers. The URL's credentials are the servers'; `sentinelUsername` and `sentinelPassword`
 * in the options are the sentinels' own. `rediss+` uses TLS to the sentinels and to the servers they name.
 */
function sentinelClient(url: string, options: RedisOptions): Redis {
  const { tls, nodes, tail, username, password } = parseHostsUrl(url, SENTINEL_DEFAULT_PORT);
  const { name, db } = parseSentinelPath(url, tail);
  let ready = false;
  const client = new Redis({
    sentinelRetryStrategy: (times) =>
      !ready && times > SENTINEL_CONNECT_ATTEMPTS ? null : Math.min(200 * times, 1_000),
    ...options,
    sentinels: nodes,
    name,
    db,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(tls
      ? {
          tls: options.tls ?? {},
          enableTLSForSentinelMode: true,
          sentinelTLS: options.sentinelTLS ?? options.tls ?? {},
        }
      : {}),
  });
  client.once("ready", () => {
    ready = true;
  });
  return client;
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

/**
 * For the `fromUrl` factories: opens a client, builds the component on it (the component then owns and closes it),
 * and disconnects the client again when building throws (bad options), so a refused factory call leaks nothing.
 */
export function buildOnOwnedClient<T>(
  url: string,
  options: ClientFromUrlOptions,
  build: (client: RedisClient) => T,
): T {
  const client = clientFromUrl(url, options);
  opened.add(client);
  logClientErrors(client);
  try {
    return build(client);
  } catch (error) {
    client.disconnect();
    throw error;
  }
}

/**
 * ioredis emits "error" for every failed connect and reconnect, and with no listener prints "Unhandled error event"
 * to the console. A client a `fromUrl` factory opened is the library's, so it gets one listener that sends the error
 * to the library's logger (NODE_DEBUG=langgraph-redis), once per run of the same error (a reconnect loop repeats it
 * every attempt), again after the connection was ready in between. Nothing is hidden: the commands still reject
 * with the error (a named RedisConnectionError), and listeners the caller adds (`saver.client.on("error")`) still
 * get every one.
 */
function logClientErrors(client: RedisClient): void {
  let last: string | undefined;
  client.on("error", (error: Error) => {
    const text = `${error.name}: ${error.message}`;
    if (text === last) return;
    last = text;
    log("client opened from a URL: %s (its commands fail until the connection is back)", text);
  });
  client.on("ready", () => {
    last = undefined;
  });
}

/**
 * Opens a client from a redis:// or rediss:// URL, for the `fromUrl` factories. A URL holding several
 * comma-separated `host:port` entries after `redis+cluster://` (or `rediss+cluster://`) opens a Cluster; its
 * connection failures are bounded by default (see ClientFromUrlOptions.cluster). `redis+sentinel://` (or
 * `rediss+sentinel://`) lists sentinels (port 26379 by default) and names the master after them,
 * `/name[/db]`: the client asks them for the master and follows failovers (see sentinelClient). A malformed URL
 * throws InvalidOptionError (with the password masked). The caller owns (and closes) the client.
 */
export function clientFromUrl(url: string, options: ClientFromUrlOptions = {}): RedisClient {
  if (typeof url !== "string") throw badUrl(url, "not a string");
  const scheme = URL_SCHEME.exec(url);
  const { cluster: clusterOptions, ...nodeOptions } = options ?? {};
  if (scheme === null) throw badUrl(url, "unknown scheme or not a URL");
  if (scheme[2]?.toLowerCase() === "+sentinel") return sentinelClient(url, nodeOptions);
  if (scheme[2] !== undefined) {
    const { tls, nodes, tail, username, password } = parseHostsUrl(url, 6379);
    if (tail !== "" && !/^\/0?$/.test(tail)) {
      throw badUrl(url, "a cluster URL takes no path or query: Redis Cluster has only database 0");
    }
    const { redisOptions, ...rest } = clusterOptions ?? {};
    return new Cluster(nodes, {
      clusterRetryStrategy: (times) => (times > CLUSTER_CONNECT_ATTEMPTS ? null : Math.min(200 * times, 1_000)),
      ...rest,
      redisOptions: {
        connectTimeout: CLUSTER_CONNECT_TIMEOUT_MS,
        ...nodeOptions,
        ...redisOptions,
        ...(username !== undefined ? { username } : {}),
        ...(password !== undefined ? { password } : {}),
        ...(tls ? { tls: redisOptions?.tls ?? nodeOptions.tls ?? {} } : {}),
      },
    });
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw badUrl(url, "the URL parser refuses it", error);
  }
  if (parsed.hostname === "" && parsed.pathname !== "" && parsed.pathname !== "/") {
    throw badUrl(url, "no host");
  }
  if (!/^\/?(\d+)?$/.test(parsed.pathname)) throw badUrl(url, "the path must be a database number");
  return new Redis(url, nodeOptions);
}

/**
 * The error for a standalone client talking to a Redis Cluster node (the node answers MOVED or CROSSSLOT for keys of
 * other slots, so some operations would work and others not): it names the client as the thing to change.
 */
export function needsClusterClientError(evidence: string, options?: { cause?: unknown }): InvalidOptionError {
  return new InvalidOptionError(
    "client",
    "a standalone ioredis client",
    `an ioredis Cluster client, since the server is a Redis Cluster node (${evidence}): use a Cluster client, ` +
      'new Cluster([{ host, port }, ...]) or clientFromUrl("redis+cluster://host:port,...") (docs/cluster.md)',
    options,
  );
}

/**
 * Server version as [major, minor, patch], from INFO server (on a cluster: any one master). Throws the
 * needsClusterClientError when a standalone client is connected to a cluster node.
 */
export async function serverVersion(client: RedisClient): Promise<[number, number, number]> {
  const node = isCluster(client) ? (client.nodes("master")[0] ?? client) : client;
  const info = await (node as Redis).info("server");
  if (!isCluster(client) && /^redis_mode:cluster\r?$/m.test(info)) {
    throw needsClusterClientError("INFO server reports redis_mode:cluster");
  }
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

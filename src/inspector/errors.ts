/**
 * What the inspector CLI reports and the exit code each failure ends with. The codes are part of the CLI's
 * interface (docs/inspector.md lists them) so scripts can tell "you called it wrong" from "Redis said no" from
 * "there is nothing there". The two error classes here are the CLI's own: the library never throws them.
 */
import { EncryptionError, LangGraphRedisError, RedisConnectionError, RedisPermissionError } from "../errors.js";
import { isConnectionError, isPermissionError } from "../redis-errors.js";

export const EXIT = {
  ok: 0,
  /** Anything not listed below: a bug, corrupt data, a resume that failed. */
  failed: 1,
  /** Unknown command or option, a missing or malformed argument. */
  usage: 2,
  /** Redis could not be reached, or refused the credentials (wrong URL, host, port, password). */
  connection: 3,
  /** The thread, checkpoint, item, namespace or lock asked for is not there, or nothing is stored under the prefix. */
  notFound: 4,
  /** The Redis ACL user may not run a command the inspector needs (NOPERM). */
  permission: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The command line is wrong: an unknown command or option, a missing argument. */
export class InspectorUsageError extends LangGraphRedisError {}

/** What was asked for is not in Redis under this prefix. */
export class InspectorNotFoundError extends LangGraphRedisError {}

const AUTH_FAILURE = /^(WRONGPASS|NOAUTH)\b|invalid username-password|Client sent AUTH, but no password is set/i;

/** The exit code and the message for an error that ended a command; `url` is shown without its password. */
export function describeFailure(error: unknown, url: string): { code: ExitCode; message: string } {
  const safeUrl = redactUrl(url);
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof InspectorUsageError) return { code: EXIT.usage, message: `${message}\n(run with --help)` };
  if (error instanceof InspectorNotFoundError) return { code: EXIT.notFound, message };
  if (error instanceof RedisPermissionError || isPermissionError(error)) {
    return {
      code: EXIT.permission,
      message:
        `the Redis ACL refused a command (${firstLine(message)}). Beyond the library's commands the inspector needs ` +
        "SCAN, MEMORY USAGE, HSTRLEN, PTTL and PING, and keys under the prefix: run it as a user with " +
        "aclRules({ keyPrefix, inspector: true }) (docs/security.md), or check --prefix is the prefix this user may read",
    };
  }
  if (AUTH_FAILURE.test(message)) {
    return {
      code: EXIT.connection,
      message:
        `Redis at ${safeUrl} refused the credentials (${firstLine(message)}): put the user and password in the URL, ` +
        "redis://user:password@host:port",
    };
  }
  if (error instanceof RedisConnectionError || isConnectionError(error)) {
    return {
      code: EXIT.connection,
      message:
        `cannot reach Redis at ${safeUrl} (${firstLine(message)}). Check --url or REDIS_URL (redis://host:port, ` +
        "rediss:// for TLS, redis+cluster://host1:port1,host2:port2 for a cluster) and that the server is running",
    };
  }
  const text = error instanceof LangGraphRedisError ? `${error.name}: ${message}` : message;
  if (error instanceof EncryptionError || ENCRYPTED_VALUE.test(message)) {
    return {
      code: EXIT.failed,
      message: `${text}\n(the inspector reads encrypted values with --keys-file <file>: a JSON object of key id to base64 key)`,
    };
  }
  return { code: EXIT.failed, message: text };
}

/** What the library says of a value it cannot read because it is encrypted (saver, cache, store). */
const ENCRYPTED_VALUE = /\+aes256gcm|is encrypted; configure `encryption`/;

function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? text;
}

/** The URL with any password replaced by "***". */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z+]+:\/\/)([^@/]*)@/i, (_, scheme: string, auth: string) => {
    const colon = auth.indexOf(":");
    return `${scheme}${colon >= 0 ? `${auth.slice(0, colon)}:***` : "***"}@`;
  });
}

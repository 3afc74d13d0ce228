/**
 * MONITOR on a raw connection, for the tests and the benchmark that read which commands a server runs. ioredis's own
 * monitor mode switches to reading monitor lines one promise turn after MONITOR's OK arrives, so a line that comes in
 * the same packet as the OK is taken for the reply to a command never sent ("Command queue state error"), and the
 * connection is dropped: seen on a loaded machine. Here every line after the OK is a monitored command.
 */
import { connect, type Socket } from "node:net";

export interface MonitoredCommand {
  /** The server's timestamp, as it printed it. */
  readonly time: string;
  readonly db: string;
  /** The client's address ("127.0.0.1:port"), or "lua" for a command a script ran. */
  readonly source: string;
  /** The command and its arguments, unescaped (bytes read as latin1). */
  readonly args: string[];
}

export interface Monitor {
  on(listener: (command: MonitoredCommand) => void): void;
  close(): void;
}

/**
 * Connects (AUTH first when the address has a password), sends MONITOR and resolves once the server said OK: every
 * command it runs from then on is seen.
 */
export function startMonitor(address: {
  host: string;
  port: number;
  username?: string;
  password?: string;
}): Promise<Monitor> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(address.port, address.host);
    const listeners: ((command: MonitoredCommand) => void)[] = [];
    let buffered = "";
    let monitoring = false;
    const auth = address.password ? [address.username || "default", address.password] : [];
    let okWaited = auth.length > 0 ? 2 : 1;
    const monitor: Monitor = {
      on: (listener) => listeners.push(listener),
      close: () => socket.destroy(),
    };
    socket.setEncoding("latin1");
    socket.once("connect", () => {
      if (auth.length > 0) socket.write(respCommand(["AUTH", ...auth]));
      socket.write("MONITOR\r\n");
    });
    socket.on("error", (error) => {
      if (!monitoring) reject(error);
    });
    socket.on("data", (chunk: string) => {
      buffered += chunk;
      let end = buffered.indexOf("\r\n");
      while (end >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        end = buffered.indexOf("\r\n");
        if (!monitoring) {
          if (line !== "+OK") {
            socket.destroy();
            reject(new Error(`MONITOR refused: ${line}`));
            return;
          }
          okWaited -= 1;
          if (okWaited === 0) {
            monitoring = true;
            resolve(monitor);
          }
          continue;
        }
        const command = parseMonitorLine(line);
        for (const listener of listeners) listener(command);
      }
    });
  });
}

/** `+<time> [<db> <source>] "<arg>" "<arg>" ...`, each argument quoted and escaped as the server's sdscatrepr does. */
export function parseMonitorLine(line: string): MonitoredCommand {
  const match = /^\+(\S+) \[(\d+) ([^\]]*)\] /.exec(line);
  if (match === null) throw new Error(`not a MONITOR line: ${JSON.stringify(line)}`);
  const [head, time = "", db = "", source = ""] = match;
  const args: string[] = [];
  let at = head.length;
  while (at < line.length) {
    if (line[at] === " ") at++;
    if (line[at] !== '"') throw new Error(`not a MONITOR line: ${JSON.stringify(line)}`);
    at++;
    let arg = "";
    while (at < line.length && line[at] !== '"') {
      if (line[at] === "\\") {
        const next = line[at + 1];
        if (next === "x") {
          arg += String.fromCharCode(Number.parseInt(line.slice(at + 2, at + 4), 16));
          at += 4;
          continue;
        }
        arg += ESCAPES[next ?? ""] ?? next ?? "";
        at += 2;
        continue;
      }
      arg += line[at];
      at++;
    }
    args.push(arg);
    at++;
  }
  return { time, db, source, args };
}

function respCommand(parts: readonly string[]): string {
  return `*${parts.length}\r\n${parts.map((part) => `$${Buffer.byteLength(part)}\r\n${part}\r\n`).join("")}`;
}

const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", a: "\x07", b: "\b", '"': '"', "\\": "\\" };

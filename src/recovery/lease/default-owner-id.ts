import { randomBytes } from "node:crypto";
import { hostname } from "node:os";

/** A default owner id naming this process: "<hostname>/<pid>/<random>" (random, since pids are reused). */
export function defaultOwnerId(): string {
  return `${hostname()}/${process.pid}/${randomBytes(4).toString("hex")}`;
}

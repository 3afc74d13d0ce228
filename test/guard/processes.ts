/**
 * The guard's programs as child processes: each runs in one Node process (`node --import tsx`, so the pid we signal
 * is the program itself). Process handling (lines, signals, stopAll by pid) is test/helpers/child-process.ts.
 */
import { join } from "node:path";
import { type Child, startChild } from "../helpers/child-process.js";

export { finished, stopAll } from "../helpers/child-process.js";
export type Program = Child;

export function startProgram(name: string, args: readonly string[]): Program {
  return startChild(["--import", "tsx", join("test", "guard", "programs", name), ...args]);
}

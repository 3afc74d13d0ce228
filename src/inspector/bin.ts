#!/usr/bin/env node
/** The `langgraph-redis` command (package.json "bin"): runs the inspector with the process's arguments. */
import { main } from "./cli.js";

const controller = new AbortController();
process.once("SIGINT", () => controller.abort());
process.once("SIGTERM", () => controller.abort());
const io = {
  out: (text: string) => process.stdout.write(text),
  err: (text: string) => process.stderr.write(text),
  env: process.env,
};
void main(process.argv.slice(2), io, { signal: controller.signal }).then((code) => {
  process.exitCode = code;
  // Anything a --graph module left open (its own Redis client, timers) must not keep the command running.
  setTimeout(() => process.exit(code), 100).unref();
});

/** Calls the inspector's main() with argv and captures what it prints. */
import { main } from "../../src/inspector/cli.js";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  json<T = Record<string, unknown>>(): T;
}

export async function runCli(
  argv: readonly string[],
  env: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await main(
    argv,
    { out: (t) => (stdout += t), err: (t) => (stderr += t), env },
    signal ? { signal } : {},
  );
  return {
    code,
    stdout,
    stderr,
    json<T>() {
      return JSON.parse(stdout) as T;
    },
  };
}

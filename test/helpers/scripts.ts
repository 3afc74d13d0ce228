/**
 * Runs one of the library's Lua scripts with a raw KEYS array and raw ARGV, and returns the raw reply: for tests of
 * a script on its own (its replies before the catalogue's decoder, keys it must reject). The library itself calls
 * scripts only through src/lua (named keys, typed arguments, decoded replies).
 */
import type { RedisClient } from "../../src/client.js";
import { COMMAND_PREFIX, registerScripts, type ScriptName } from "../../src/lua/index.js";

export function runRawScript(
  client: RedisClient,
  name: ScriptName,
  keys: readonly string[],
  args: readonly unknown[],
  buffers = false,
): Promise<unknown> {
  registerScripts(client);
  const method = `${COMMAND_PREFIX}${name}${buffers ? "Buffer" : ""}`;
  const fn = (client as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method];
  if (fn === undefined) throw new Error(`no script ${name}`);
  return fn.call(client, keys.length, ...keys, ...args);
}

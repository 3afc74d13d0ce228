import type { ChainableCommander } from "ioredis";
import type { RedisClient } from "../client.js";
import { measuringBytes, noteBytes, payloadBytes } from "../telemetry/index.js";
import { LUA_SOURCES, type ScriptName } from "./generated.js";

/**
 * Lua scripts, registered once per client with ioredis defineCommand (EVALSHA, with a fallback to EVAL on
 * NOSCRIPT; pipelines load missing scripts first). Each script is a src/scripts/<name>.lua file whose header lists
 * its KEYS, ARGV and results; scripts/embed-lua.mjs ships them inside the build.
 *
 * Command names carry a prefix so they cannot collide with the user's own defineCommand names.
 */
export type { ScriptName } from "./generated.js";

export type ScriptArg = string | number | Buffer;

const COMMAND_PREFIX = "langgraphRedis_";

type ScriptCommand = (numKeys: number, ...args: ScriptArg[]) => Promise<unknown>;

function commandName(name: ScriptName): string {
  return `${COMMAND_PREFIX}${name}`;
}

/** Registers every script on the client (idempotent: already-defined commands are left alone). */
export function registerScripts(client: RedisClient): void {
  const target = client as unknown as Record<string, unknown>;
  for (const name of Object.keys(LUA_SOURCES) as ScriptName[]) {
    if (typeof target[commandName(name)] !== "function") {
      client.defineCommand(commandName(name), { lua: LUA_SOURCES[name] });
    }
  }
}

/** Telemetry: the bytes a script call sends, added to the traced operation in progress (if any). */
function noteSent(keys: readonly string[], args: readonly ScriptArg[]): void {
  if (measuringBytes()) noteBytes(payloadBytes(keys) + payloadBytes(args));
}

/** Telemetry: the bytes a script returned. */
function noteReceived<T>(reply: T): T {
  if (measuringBytes()) noteBytes(payloadBytes(reply));
  return reply;
}

function command(target: RedisClient | ChainableCommander, name: ScriptName, buffers: boolean): ScriptCommand {
  const method = `${commandName(name)}${buffers ? "Buffer" : ""}`;
  const fn = (target as unknown as Record<string, ScriptCommand | undefined>)[method];
  if (typeof fn !== "function") {
    throw new Error(`script ${name} is not registered on this client; call registerScripts(client) first`);
  }
  return fn.bind(target);
}

/** Runs a script; string replies come back as strings. */
export function runScript(
  client: RedisClient,
  name: ScriptName,
  keys: readonly string[],
  args: readonly ScriptArg[],
): Promise<unknown> {
  noteSent(keys, args);
  return command(client, name, false)(keys.length, ...keys, ...args).then(noteReceived);
}

/** Runs a script; bulk replies come back as Buffers (for binary payloads). */
export function runScriptBuffer(
  client: RedisClient,
  name: ScriptName,
  keys: readonly string[],
  args: readonly ScriptArg[],
): Promise<unknown> {
  noteSent(keys, args);
  return command(client, name, true)(keys.length, ...keys, ...args).then(noteReceived);
}

/** Queues a script on a pipeline or MULTI (the pipeline must come from a client that registerScripts saw). */
export function queueScript(
  pipeline: ChainableCommander,
  name: ScriptName,
  keys: readonly string[],
  args: readonly ScriptArg[],
  buffers = false,
): void {
  noteSent(keys, args);
  void command(pipeline, name, buffers)(keys.length, ...keys, ...args);
}

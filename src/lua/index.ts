import type { ChainableCommander, Cluster } from "ioredis";
import { isCluster, type RedisClient } from "../client.js";
import { sendAgain } from "../slot-migration.js";
import { measuringBytes, noteBytes, noteCommand, payloadBytes } from "../telemetry/index.js";
import { coalesceWrites } from "../write-coalescing.js";
import { type ReplyOf, SCRIPTS, type ScriptArgs, type ScriptKeys, type ScriptName } from "./catalogue.js";
import { LUA_SOURCES } from "./generated.js";

/**
 * Running the Lua scripts of src/lua/. Each script is declared once in catalogue.ts (its KEYS by name, its ARGV
 * tuple, a decoder of its reply); callers pass named keys and get the decoded reply:
 *
 *   const result = await callScript(client, "recoveryReleaseLease", { index, holders }, [member, token]);
 *   const call = scriptCall("storeGet", keys, args); // for a pipeline: call.queue(p), then call.decode(reply)
 *
 * Scripts are registered once per client with ioredis defineCommand (EVALSHA, with a fallback to EVAL on
 * NOSCRIPT; pipelines load missing scripts first). Command names carry a prefix so they cannot collide with the
 * user's own defineCommand names.
 */
export {
  type ReplyOf,
  SCRIPTS,
  type ScriptArg,
  type ScriptArgs,
  type ScriptKeys,
  type ScriptName,
} from "./catalogue.js";

export const COMMAND_PREFIX = "langgraphRedis_";

/** A script command of the client: (numKeys, ...keys, ...args). */
type ScriptCommand = (...numKeysKeysArgs: unknown[]) => Promise<unknown>;

/** Registers every script on the client (idempotent: already-defined commands are left alone). */
export function registerScripts(client: RedisClient): void {
  const target = client as unknown as Record<string, unknown>;
  for (const name of Object.keys(LUA_SOURCES) as ScriptName[]) {
    if (typeof target[`${COMMAND_PREFIX}${name}`] !== "function") {
      client.defineCommand(`${COMMAND_PREFIX}${name}`, { lua: LUA_SOURCES[name] });
    }
  }
  if (isCluster(client) && client.options.enableAutoPipelining) skipAutoPipelining(client);
}

/**
 * ioredis's autopipelining sends a Cluster client's command to the master of its first argument's slot, which for
 * these scripts is their number of keys: calls went to the wrong master and failed ("All keys in the pipeline should
 * belong to the same slots allocation group"). The scripts skip it; calls made in one turn still leave together
 * (src/write-coalescing.ts). A new array: ioredis may share its default one between clients.
 */
function skipAutoPipelining(client: Cluster): void {
  const ignored = client.options.autoPipeliningIgnoredCommands ?? [];
  const ours = Object.keys(LUA_SOURCES).map((name) => `${COMMAND_PREFIX}${name}`);
  if (ours.every((name) => ignored.includes(name))) return;
  client.options.autoPipeliningIgnoredCommands = [...ignored, ...ours.filter((name) => !ignored.includes(name))];
}

/** Each script's declared keys as [name, optional], parsed once (scriptKeys runs on every call). */
const declaredKeys = new Map<ScriptName, readonly (readonly [string, boolean, string])[]>();

function declaredKeysOf(name: ScriptName): readonly (readonly [string, boolean, string])[] {
  let parsed = declaredKeys.get(name);
  if (parsed === undefined) {
    parsed = (SCRIPTS[name].keys as readonly string[]).map(
      (declared) => [declared.replace(/^\.\.\.|\?$/g, ""), declared.endsWith("?"), declared] as const,
    );
    declaredKeys.set(name, parsed);
  }
  return parsed;
}

/** Appends the KEYS of a call to `out`, in the order the catalogue declares (optional keys only when given). */
function pushScriptKeys<N extends ScriptName>(out: unknown[], name: N, keys: ScriptKeys<N>): void {
  const named = keys as Record<string, string | readonly string[] | undefined>;
  for (const [key, optional, declared] of declaredKeysOf(name)) {
    const value = named[key];
    if (typeof value === "string") out.push(value);
    else if (Array.isArray(value)) out.push(...value);
    else if (!optional) throw new TypeError(`script ${name}: key ${declared} is missing`);
  }
}

/** The KEYS array of a call, in the order the catalogue declares (optional keys only when given). */
export function scriptKeys<N extends ScriptName>(name: N, keys: ScriptKeys<N>): string[] {
  const out: string[] = [];
  pushScriptKeys(out, name, keys);
  return out;
}

/** Each script's client method (registerScripts defines them; "...Buffer" for scripts whose replies are bytes). */
const METHODS = Object.fromEntries(
  (Object.keys(SCRIPTS) as ScriptName[]).map((name) => [
    name,
    `${COMMAND_PREFIX}${name}${SCRIPTS[name].buffers ? "Buffer" : ""}`,
  ]),
) as Record<ScriptName, string>;

function command(target: RedisClient | ChainableCommander, name: ScriptName): ScriptCommand {
  const fn = (target as unknown as Record<string, ScriptCommand | undefined>)[METHODS[name]];
  if (typeof fn !== "function") {
    throw new Error(`script ${name} is not registered on this client; call registerScripts(client) first`);
  }
  return fn;
}

/** The arguments of one script command: the number of keys, the keys, then the script's arguments. */
function commandArgs(keys: readonly string[], args: readonly unknown[]): unknown[] {
  const out = new Array<unknown>(1 + keys.length + args.length);
  out[0] = keys.length;
  for (let i = 0; i < keys.length; i++) out[1 + i] = keys[i];
  for (let i = 0; i < args.length; i++) out[1 + keys.length + i] = args[i];
  return out;
}

/** Telemetry: the command and the bytes a script call sends, added to the traced operation in progress (if any). */
function noteSent(keys: readonly string[], args: unknown): void {
  if (!measuringBytes()) return;
  noteCommand();
  noteBytes(payloadBytes(keys) + payloadBytes(args));
}

/** One script call: the keys it touches, how to queue it on a pipeline, and the decoder of its reply. */
export interface ScriptCall<R> {
  readonly name: ScriptName;
  /** A key of the call (they share a slot): routes it on Redis Cluster. */
  readonly key: string;
  readonly keys: readonly string[];
  /** Queues exactly one command on the pipeline (from a client registerScripts saw). */
  readonly queue: (pipeline: ChainableCommander) => void;
  /** Turns the raw reply into the script's typed result (or throws its named error). */
  readonly decode: (reply: unknown) => R;
}

/** Builds one call of script `name` with named keys and typed arguments. */
export function scriptCall<N extends ScriptName>(
  name: N,
  keys: ScriptKeys<N>,
  args: ScriptArgs<N>,
): ScriptCall<ReplyOf<N>> {
  const list = scriptKeys(name, keys);
  const spec = SCRIPTS[name] as unknown as { decode(reply: unknown, keys: unknown, args: unknown): ReplyOf<N> };
  return {
    name,
    key: list[0] as string,
    keys: list,
    queue: (pipeline) => {
      noteSent(list, args);
      void command(pipeline, name).apply(pipeline, commandArgs(list, args as readonly unknown[]));
    },
    decode: (reply) => spec.decode(reply, keys, args),
  };
}

/** Runs one script (one round trip; sent again while a slot migration turns it away) and returns its decoded reply. */
export async function callScript<N extends ScriptName>(
  client: RedisClient,
  name: N,
  keys: ScriptKeys<N>,
  args: ScriptArgs<N>,
): Promise<ReplyOf<N>> {
  // The number of keys, the keys, then the arguments, built in one array: every call of every operation makes one.
  const sent: unknown[] = [0];
  pushScriptKeys(sent, name, keys);
  const keyCount = sent.length - 1;
  sent[0] = keyCount;
  for (const arg of args as readonly unknown[]) sent.push(arg);
  if (measuringBytes()) noteSent(sent.slice(1, 1 + keyCount) as string[], args);
  coalesceWrites(client);
  const send = command(client, name);
  let reply: unknown;
  try {
    reply = await send.apply(client, sent);
  } catch (error) {
    reply = await sendAgain(client, error, () => send.apply(client, sent));
  }
  if (measuringBytes()) noteBytes(payloadBytes(reply));
  const spec = SCRIPTS[name] as unknown as { decode(reply: unknown, keys: unknown, args: unknown): ReplyOf<N> };
  return spec.decode(reply, keys, args);
}

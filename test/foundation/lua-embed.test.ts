/**
 * The scripts as scripts/embed-lua.mjs embeds them: each compiles on the server, calls only functions it defines or
 * Lua and Redis provide (leaving out the functions a script never names must not drop one that a rare path calls),
 * and carries neither the functions of its includes it does not call nor, at its top level, the families of
 * functions only a rare path needs.
 */
import { LUA_SOURCES, type ScriptName } from "../../src/lua/generated.js";
import { newRedis } from "../helpers/redis.js";

const scripts = Object.entries(LUA_SOURCES) as [ScriptName, string][];

const KEYWORDS = new Set(["and", "elseif", "function", "if", "in", "not", "or", "return", "until", "while"]);
const LUA_FUNCTIONS = new Set([
  "assert",
  "error",
  "getmetatable",
  "ipairs",
  "next",
  "pairs",
  "pcall",
  "rawequal",
  "rawget",
  "rawset",
  "select",
  "setmetatable",
  "tonumber",
  "tostring",
  "type",
  "unpack",
  "xpcall",
]);

function withoutComments(lua: string): string {
  return lua.replace(/--\[(=*)\[[\s\S]*?\]\1\]/g, "").replace(/--[^\n]*/g, "");
}

/** Every name the code declares: local functions and variables, parameters, loop variables. */
function declaredNames(code: string): Set<string> {
  const names = new Set<string>();
  const add = (list: string) => {
    for (const name of list.split(",")) if (/^\w+$/.test(name.trim())) names.add(name.trim());
  };
  for (const m of code.matchAll(/\blocal\s+function\s+(\w+)/g)) names.add(m[1] as string);
  for (const m of code.matchAll(/\blocal\s+(?!function\b)([\w\s,]+?)\s*(?==|\n)/g)) add(m[1] as string);
  for (const m of code.matchAll(/\bfunction\b[^(]*\(([^)]*)\)/g)) add(m[1] as string);
  for (const m of code.matchAll(/\bfor\s+([\w\s,]+?)\s+(?:in|=)/g)) add(m[1] as string);
  return names;
}

/** Names called as plain functions (not fields such as string.sub or redis.call). */
function calledNames(code: string): Set<string> {
  const names = new Set<string>();
  for (const m of code.matchAll(/(?:^|[^.:\w])([A-Za-z_]\w*)\s*\(/gm)) {
    const name = m[1] as string;
    if (!KEYWORDS.has(name) && !LUA_FUNCTIONS.has(name)) names.add(name);
  }
  return names;
}

describe("embedded Lua scripts", () => {
  it("every script compiles on the server", async () => {
    const client = newRedis();
    for (const [, lua] of scripts) {
      await expect(client.script("LOAD", lua)).resolves.toMatch(/^[0-9a-f]{40}$/);
    }
  });

  it.each(scripts)("%s calls only functions it defines", (_, lua) => {
    const code = withoutComments(lua);
    const declared = declaredNames(code);
    expect([...calledNames(code)].filter((name) => !declared.has(name))).toEqual([]);
  });

  it("a script carries only the include functions it calls", () => {
    // saverPutWrites adds writes: the readers, removers and importers of the same include are left out.
    expect(LUA_SOURCES.saverPutWrites).toMatch(/^local function pendingWritesAdd\(/m);
    for (const unused of ["pendingWritesList", "pendingWritesRemove", "pendingWritesImport", "pendingWritesCountAll"]) {
      expect(LUA_SOURCES.saverPutWrites).not.toMatch(new RegExp(`local function ${unused}\\(`));
    }
    // Constants go with the functions that use them.
    expect(LUA_SOURCES.saverRead).not.toMatch(/PENDING_WRITES_BUNDLE_BYTES = /);
  });

  it("saverPut defines the delta and retention functions only inside the paths that need them", () => {
    // An indented include: the functions live in the function that includes them, not at the top level.
    for (const name of ["blobBaseField", "framedFirstPart", "retentionAfterPut", "pendingWritesRemove"]) {
      expect(LUA_SOURCES.saverPut).toMatch(new RegExp(`^ +local function ${name}\\(`, "m"));
      expect(LUA_SOURCES.saverPut).not.toMatch(new RegExp(`^local function ${name}\\(`, "m"));
    }
    expect(LUA_SOURCES.saverPut).not.toMatch(/^local IN_HISTORY_MARKER/m);
    // The common put shares the writes (include putCheckpoint), defines the legacy upgrade only on the puts that ask
    // for it, and no retention or fence functions at all.
    for (const name of ["blobBaseField", "framedFirstPart", "upgradeLegacyLayout"]) {
      expect(LUA_SOURCES.saverPutCompact).toMatch(new RegExp(`^ +local function ${name}\\(`, "m"));
      expect(LUA_SOURCES.saverPutCompact).not.toMatch(new RegExp(`^local function ${name}\\(`, "m"));
    }
    for (const name of ["retentionAfterPut", "checkRunFence", "recordRunThread"]) {
      expect(LUA_SOURCES.saverPutCompact).not.toMatch(new RegExp(`local function ${name}\\(`));
    }
  });
});

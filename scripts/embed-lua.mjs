#!/usr/bin/env node
// Embeds every src/lua/*.lua file into src/lua/generated.ts, so the build ships the scripts as strings and nothing
// reads files at run time. Runs on `npm install` (prepare), typecheck, build and test.
//
// A line `-- @include NAME` is replaced by src/lua/include/NAME.lua: Lua code shared by several scripts (Redis runs
// each script on its own, so shared functions are copied in here rather than loaded). An include may include
// others; each is copied at most once per script, before the first one that needs it.
//
// Lua defines a script's functions anew at every call, so what a script does not need costs it every time:
// - an indented `  -- @include NAME` sits inside a function body: the include is copied there, indented (with what
//   it includes that the script has not included before it), visible only in that function, so its functions are
//   defined only on the calls that run it (rare paths keep their includes so);
// - a function no code of the script names (`local function NAME(` up to the `end` at its indentation), or a
//   constant (`local NAME = ` literals, string.* and math.* only) is left out of the embedded copy, so an include
//   can offer a family of functions and each script pays only for those it calls.
//
// Every script must open with the header described in docs/development.md; a script without it is refused:
//   --[[
//   <capability><Action>: what it does
//   KEYS[1] ... (or "KEYS: none")       ARGV[1] ... (or "ARGV: none")
//   Result: / Results: ...              Errors: ... (the negative codes, or "none")
//   ]]
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const CAPABILITIES = ["saver", "store", "guard", "recovery", "audit", "cache"];
const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "lua");
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".lua"))
  .sort();

function refuse(file, reason) {
  throw new Error(`src/lua/${file}: ${reason} (see "Lua scripts" in docs/development.md)`);
}

function checkHeader(file, name, lua) {
  const match = /^--\[\[\n([\s\S]*?)\n\]\]\n/.exec(lua);
  if (!match) refuse(file, "a script must open with a --[[ ... ]] header block");
  const header = match[1];
  const first = header.split("\n")[0].trim();
  if (!first.startsWith(`${name}: `) && !first.startsWith(`${name} (`)) {
    refuse(file, `the header's first line must start with "${name}: "`);
  }
  const sections = [
    [/^\s*KEYS(\[1[\].]|: none)/m, "KEYS[1] ... (or KEYS: none)"],
    [/^\s*ARGV(\[1[\].]|: none)/m, "ARGV[1] ... (or ARGV: none)"],
    [/^\s*Results?:/m, "Result: or Results:"],
    [/^\s*Errors:/m, "Errors: (its negative codes, or none)"],
  ];
  for (const [pattern, what] of sections) {
    if (!pattern.test(header)) refuse(file, `the header must list ${what}`);
  }
}

function expandIncludes(text, seen) {
  return text.replace(/^( *)-- @include (\w+)\n/gm, (_, indent, include) => {
    if (seen.has(include)) return "";
    // Indented: scoped to the enclosing function, so the script's later includes do not count on it.
    const scope = indent === "" ? seen : new Set(seen);
    scope.add(include);
    const path = join(dir, "include", `${include}.lua`);
    if (!existsSync(path)) throw new Error(`unknown include ${include} (no src/lua/include/${include}.lua)`);
    const expanded = expandIncludes(readFileSync(path, "utf8").trimEnd(), scope);
    return `${indent === "" ? expanded : expanded.replace(/^(?=.)/gm, indent)}\n`;
  });
}

// The code of a script with comments blanked out (string literals kept), so that names in comments do not count.
function codeOnly(lua) {
  let out = "";
  let i = 0;
  while (i < lua.length) {
    const c = lua[i];
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < lua.length && lua[j] !== c && lua[j] !== "\n") j += lua[j] === "\\" ? 2 : 1;
      out += lua.slice(i, j + 1);
      i = j + 1;
    } else if (lua.startsWith("--", i)) {
      const long = /^--\[(=*)\[/.exec(lua.slice(i, i + 16));
      const end = long ? lua.indexOf(`]${long[1]}]`, i) + long[1].length + 2 : lua.indexOf("\n", i);
      const stop = end < (long ? long[1].length + 2 : 0) ? lua.length : end;
      out += lua.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop;
    } else if (lua.startsWith("[[", i) || /^\[=+\[/.test(lua.slice(i, i + 16))) {
      throw new Error("long strings are not supported in scripts (dropUnused reads them as code)");
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

// A constant's value that defining costs nothing but itself: literals, operators, string.* and math.* calls.
function isPureValue(value) {
  const names = value.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, "").match(/[A-Za-z_][\w.]*/g) ?? [];
  return names.every((n) => /^(string|math)\.\w+$/.test(n) || ["nil", "true", "false"].includes(n));
}

function dropUnused(lua) {
  let lines = lua.split("\n");
  for (;;) {
    const code = codeOnly(lines.join("\n")).split("\n");
    const blocks = [];
    for (let i = 0; i < code.length; i++) {
      const fn = /^( *)local function (\w+)\(/.exec(code[i]);
      if (fn) {
        if (/\bend\s*$/.test(code[i])) {
          blocks.push({ name: fn[2], from: i, to: i });
          continue;
        }
        const close = `${fn[1]}end`;
        let j = i + 1;
        while (j < code.length && code[j].trimEnd() !== close) j++;
        if (j < code.length) blocks.push({ name: fn[2], from: i, to: j });
        continue;
      }
      const constant = /^ *local (\w+) = (.*)$/.exec(code[i]);
      if (constant && isPureValue(constant[2])) blocks.push({ name: constant[1], from: i, to: i });
    }
    const unused = blocks.filter(({ name, from, to }) => {
      const word = new RegExp(`\\b${name}\\b`);
      return !code.some((line, k) => (k < from || k > to) && word.test(line));
    });
    if (unused.length === 0) return lines.join("\n");
    const drop = new Set();
    for (const { from, to } of unused) for (let k = from; k <= to; k++) drop.add(k);
    lines = lines.filter((_, k) => !drop.has(k));
  }
}

const entries = files.map((file) => {
  const name = file.slice(0, -".lua".length);
  if (!/^[a-z][a-zA-Z0-9]*$/.test(name)) refuse(file, "a script's file name is camelCase letters and digits");
  if (!CAPABILITIES.some((c) => new RegExp(`^${c}[A-Z]`).test(name))) {
    refuse(file, `a script's name starts with its capability (${CAPABILITIES.join(", ")})`);
  }
  const source = readFileSync(join(dir, file), "utf8");
  checkHeader(file, name, source);
  return `  ${name}: ${JSON.stringify(dropUnused(expandIncludes(source, new Set())))},`;
});

const out = `// Generated by scripts/embed-lua.mjs from src/lua/*.lua. Do not edit.
export const LUA_SOURCES = {
${entries.join("\n")}
} as const;

export type ScriptName = keyof typeof LUA_SOURCES;
`;
const target = join(dir, "generated.ts");
if (!existsSync(target) || readFileSync(target, "utf8") !== out) writeFileSync(target, out);

/**
 * A watchdog in every test process (a setup file of both configs). vitest times out a test or a hook, but nothing
 * bounds a test process whose event loop is blocked or starved (a loop that never yields lets no timer fire, the
 * test timeout's included; so does a deadlock outside JavaScript), nor one that stops between its tests' end and its
 * report to vitest: vitest then waits for ever, and the whole run with it. The watchdog, a worker thread with a clock
 * of its own, reports such a file (the test under way; the main thread's JavaScript stack, or where its threads wait
 * when it runs none; or the resources its event loop waits on) on the process's stderr and in a file the summary
 * reporter prints at the end (watchdog-reports.ts), then kills the process: vitest reports the file as failed and
 * goes on with the next.
 *
 * It acts when the main thread has run no timer for STALL_MS (TEST_STALL_LIMIT_MS), or when the file has run for
 * FILE_LIMIT_MS (TEST_FILE_LIMIT_MS): far beyond any file's time on a loaded 2-core machine.
 */
import { Worker } from "node:worker_threads";
import { beforeEach, expect } from "vitest";
import { watchdogReportDir } from "./watchdog-reports.js";

const STALL_MS = Number(process.env.TEST_STALL_LIMIT_MS ?? 120_000);
const FILE_LIMIT_MS = Number(process.env.TEST_FILE_LIMIT_MS ?? 600_000);
const NAME_BYTES = 1024;

// [0]: heartbeats of the main thread; [1]: the length of the current test's name, in the bytes after the counters.
const shared = new SharedArrayBuffer(8 + NAME_BYTES);
const counters = new Int32Array(shared, 0, 2);
const nameBytes = new Uint8Array(shared, 8, NAME_BYTES);

function setCurrentTest(name: string): void {
  const encoded = Buffer.from(name).subarray(0, NAME_BYTES);
  nameBytes.set(encoded);
  Atomics.store(counters, 1, encoded.length);
}

// The watchdog's own code: it runs beside the main thread, so a blocked main thread does not stop its timer. Written
// with writeSync on fd 2: a worker thread's process.stderr goes through the (maybe blocked) main thread.
const watchdogSource = `
const { workerData, parentPort } = require("node:worker_threads");
const { mkdirSync, readdirSync, readFileSync, writeFileSync, writeSync } = require("node:fs");
const { spawnSync } = require("node:child_process");
const { Session } = require("node:inspector");
const { shared, stallMs, fileLimitMs, file, reportDir } = workerData;
const counters = new Int32Array(shared, 0, 2);
const nameBytes = new Uint8Array(shared, 8);
const startedMs = performance.now();
let beats = Atomics.load(counters, 0);
let lastBeatMs = startedMs;

function currentTest() {
  return Buffer.from(nameBytes.subarray(0, Atomics.load(counters, 1))).toString() || "(none yet)";
}

function mainThreadStack(done) {
  // The inspector pauses the main thread at its next JavaScript statement, a busy loop's included.
  const session = new Session();
  const timer = setTimeout(
    () => done("(the main thread ran no JavaScript within 5 s: it is blocked outside it)\\n" + nativeThreads()),
    5000,
  );
  try {
    session.connectToMainThread();
    // A frame of a module vitest evaluated has no url of its own: its script's, announced on Debugger.enable, names it.
    const scripts = new Map();
    session.on("Debugger.scriptParsed", ({ params }) => scripts.set(params.scriptId, params.url));
    session.on("Debugger.paused", ({ params }) => {
      clearTimeout(timer);
      done(params.callFrames.map((f) =>
        "    at " + (f.functionName || "<anonymous>") + " (" + (f.url || scripts.get(f.location.scriptId) || "?") + ":" +
        (f.location.lineNumber + 1) + ":" + ((f.location.columnNumber ?? 0) + 1) + ")").join("\\n"));
    });
    session.post("Debugger.enable", () => session.post("Debugger.pause"));
  } catch (error) {
    clearTimeout(timer);
    done("(no stack: " + error.message + ")");
  }
}

// Where each thread of the process waits, from /proc (name, state, kernel wait channel), and their native stacks
// when gdb is installed: what tells a deadlock inside Node or V8 (threads parked on futexes) from one of ours.
function nativeThreads() {
  const lines = [];
  try {
    for (const tid of readdirSync("/proc/self/task")) {
      const at = (name) => { try { return readFileSync("/proc/self/task/" + tid + "/" + name, "utf8").trim(); } catch { return "?"; } };
      const state = at("stat").replace(/^.*\\) /, "").split(" ")[0];
      lines.push("    thread " + tid + " " + at("comm") + ": state " + state + ", waits in " + at("wchan"));
    }
  } catch (error) {
    lines.push("    (no /proc: " + error.message + ")");
  }
  const gdb = spawnSync("gdb", ["-p", String(process.pid), "-batch", "-nx", "-ex", "thread apply all bt 16"], {
    encoding: "utf8",
    timeout: 60000,
  });
  if (gdb.error === undefined && gdb.stdout) {
    lines.push("  native stacks (gdb):", ...gdb.stdout.split("\\n").filter((l) => /^(Thread|#)/.test(l) && !l.endsWith(" in ?? ()")).map((l) => "    " + l));
  }
  return "  threads:\\n" + lines.join("\\n");
}

function giveUp(why, details) {
  const report = "[test watchdog] " + file + ": " + why + ". Current test: " + currentTest() + "\\n" + details +
    "\\n[test watchdog] killing the test process (pid " + process.pid + ") so the run goes on.\\n";
  writeSync(2, "\\n" + report);
  try {
    mkdirSync(reportDir, { recursive: true });
    writeFileSync(reportDir + "/" + process.pid + ".txt", report);
  } catch {}
  process.kill(process.pid, "SIGKILL");
}

let acting = false;
setInterval(() => {
  if (acting) return;
  const now = performance.now();
  const seen = Atomics.load(counters, 0);
  if (seen !== beats) {
    beats = seen;
    lastBeatMs = now;
  }
  if (now - lastBeatMs >= stallMs) {
    acting = true;
    mainThreadStack((stack) => giveUp("the main thread ran no timer for " + Math.round(now - lastBeatMs) + " ms", "  its stack:\\n" + stack));
  } else if (now - startedMs >= fileLimitMs) {
    acting = true;
    // The main thread still runs: it reports what it waits on.
    parentPort.postMessage("report");
    parentPort.once("message", (resources) =>
      giveUp("the file has run for " + Math.round(now - startedMs) + " ms", "  the main thread waits on: " + resources));
    setTimeout(() => giveUp("the file has run for " + Math.round(now - startedMs) + " ms", "  (no answer from the main thread)"), 5000);
  }
}, 1000);
`;

// One watchdog per process, kept on globalThis: a process that ran several files would evaluate this file again.
const state = globalThis as { __testWatchdog?: { worker: Worker; setCurrentTest(name: string): void } };
if (state.__testWatchdog === undefined) {
  const worker = new Worker(watchdogSource, {
    eval: true,
    workerData: {
      shared,
      stallMs: STALL_MS,
      fileLimitMs: FILE_LIMIT_MS,
      file: expect.getState().testPath ?? "",
      reportDir: watchdogReportDir(process.ppid),
    },
  });
  worker.unref();
  worker.on("message", () => worker.postMessage(process.getActiveResourcesInfo().join(", ") || "nothing"));
  setInterval(() => Atomics.add(counters, 0, 1), 1000).unref();
  state.__testWatchdog = { worker, setCurrentTest };
}
const watchdog = state.__testWatchdog;

beforeEach(() => {
  watchdog.setCurrentTest(expect.getState().currentTestName ?? "");
});

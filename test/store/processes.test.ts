/**
 * No lost update across OS processes: 4 processes each make 50 concurrent update() increments of one counter; the
 * counter ends at exactly 200 and the history holds every version, in order, each written by one of the processes.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { inject } from "vitest";
import { targets, testPrefix } from "../helpers/redis.js";
import { newStore } from "./helpers.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..", "..");

describe.each(targets)("update() across processes on $name", ({ name, connect }) => {
  it("4 processes x 50 concurrent increments end at exactly 200", async () => {
    const keyPrefix = testPrefix("proc");
    const target = name === "cluster" ? inject("clusterNodes") : inject("redisUrl");
    const tsx = join(root, "node_modules", ".bin", "tsx");
    const worker = join(root, "test", "store", "fixtures", "increment-worker.ts");
    const outputs = await Promise.all(
      [1, 2, 3, 4].map((i) =>
        run(tsx, [worker, target, name, keyPrefix, "50", `process-${i}`], { cwd: root, timeout: 150_000 }),
      ),
    );
    expect(outputs.map((o) => o.stdout.trim()).sort()).toEqual([1, 2, 3, 4].map((i) => `process-${i} done`));

    const store = newStore(connect(), { keyPrefix, historyLimit: 1000 });
    expect((await store.getWithVersion(["counters"], "shared"))?.value).toEqual({ n: 200 });
    const history = await store.history(["counters"], "shared");
    expect(history.map((h) => h.version)).toEqual(Array.from({ length: 200 }, (_, i) => 200 - i));
    expect(history.map((h) => h.value?.n)).toEqual(Array.from({ length: 200 }, (_, i) => 200 - i));
    const perWriter = new Map<string, number>();
    for (const entry of history) perWriter.set(String(entry.writer), (perWriter.get(String(entry.writer)) ?? 0) + 1);
    expect(Object.fromEntries(perWriter)).toEqual({
      "process-1": 50,
      "process-2": 50,
      "process-3": 50,
      "process-4": 50,
    });
  }, 180_000);
});

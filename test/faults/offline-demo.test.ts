/**
 * `npm run demo -- --outage --quick`: the demo kills its own redis-server by pid while four agents run, restarts it,
 * and exits 0 only if no run failed and no acknowledged write was lost or applied twice. It refuses a REDIS_URL it
 * did not start.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { recordCounts } from "../helpers/counts.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..", "..");
const tsx = join(root, "node_modules", ".bin", "tsx");

describe("demo --outage", () => {
  it("keeps every agent running through the outage: 0 runs failed, 0 writes lost, 0 applied twice", async (context) => {
    const { stdout } = await run(tsx, ["demo/main.ts", "--outage", "--quick"], {
      cwd: root,
      env: { ...process.env, REDIS_URL: "redis://127.0.0.1:1", DEMO_OWN_REDIS: "1" },
      timeout: 150_000,
    });
    recordCounts(context, { faultsInjected: 1 });
    expect(stdout).toMatch(/killing redis-server pid \d+ \(SIGKILL\)/);
    expect(stdout).toMatch(/Redis unreachable, writing to its journal/);
    expect(stdout).toMatch(/journal replayed \(\d+ records, 0 conflicts, 0 rejected\)/);
    expect(stdout).toMatch(/runs failed: 0\n/);
    expect(stdout).toMatch(/writes lost: 0\n/);
    expect(stdout).toMatch(/applied twice: 0\n/);
    const checked = /checked (\d+) checkpoints and (\d+) task writes/.exec(stdout);
    expect(Number(checked?.[1])).toBeGreaterThan(0);
    // the agents went on while Redis was down
    const down = [...stdout.matchAll(/\[Redis down\] runs done (\d+)/g)].map((m) => Number(m[1]));
    const before = Number(/\[before\] runs done (\d+)/.exec(stdout)?.[1]);
    expect(Math.max(...down)).toBeGreaterThan(before);
  });

  it("refuses a REDIS_URL it did not start", async () => {
    const failure = await run(tsx, ["demo/main.ts", "--outage"], {
      cwd: root,
      env: { ...process.env, REDIS_URL: "redis://127.0.0.1:6379", DEMO_OWN_REDIS: "" },
      timeout: 60_000,
    }).catch((error: { code?: number; stderr?: string }) => error);
    expect((failure as { code?: number }).code).toBe(2);
    expect((failure as { stderr?: string }).stderr).toMatch(/only runs on a throwaway server the demo starts itself/);
  });
});

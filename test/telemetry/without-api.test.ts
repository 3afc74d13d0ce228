/**
 * Without @opentelemetry/api (an optional peer dependency) nothing happens: a child process in which a resolve
 * hook makes the package unloadable runs saver, store, cache and guarded() operations to completion.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { redisUrl } from "../helpers/redis.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..", "..");

describe("without @opentelemetry/api", () => {
  it("runs every kind of operation with telemetry off", async () => {
    const { stdout } = await run(
      process.execPath,
      [
        "--import",
        join(root, "test", "telemetry", "fixtures", "hide-otel.mjs"),
        "--import",
        "tsx",
        join(root, "test", "telemetry", "fixtures", "without-api.ts"),
      ],
      { cwd: root, env: { ...process.env, REDIS_URL: redisUrl() }, timeout: 60_000 },
    );
    expect(stdout.trim()).toBe("ok");
  });
});

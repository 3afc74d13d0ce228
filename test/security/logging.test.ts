/**
 * Nothing logs values or credentials: the whole public API runs in a child process with NODE_DEBUG=langgraph-redis,
 * through URLs that carry a password, with failures on the way; its debug output and the messages of the errors it
 * caught must contain neither the password nor any value written.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { freePort } from "../../scripts/local-redis.js";
import { canStartServers, startServer } from "../helpers/local-servers.js";

const execFileAsync = promisify(execFile);
const PASSWORD = "pw-Zq81-never-log-me";

describe.skipIf(!canStartServers)("debug logging (needs redis-server on PATH)", () => {
  it("never contains values or credentials", async () => {
    const server = await startServer();
    const admin = new Redis(server.url, { maxRetriesPerRequest: 1 });
    await admin.call("ACL", ["SETUSER", "agent", "on", `>${PASSWORD}`, "~*", "+@all"]);
    admin.disconnect();
    const url = server.url.replace("redis://", `redis://agent:${PASSWORD}@`);
    const deadUrl = `redis://agent:${PASSWORD}@127.0.0.1:${await freePort()}`;

    const script = fileURLToPath(new URL("./fixtures/debug-workload.ts", import.meta.url));
    const { stdout, stderr } = await execFileAsync(process.execPath, ["--import", "tsx", script], {
      env: { ...process.env, NODE_DEBUG: "langgraph-redis", REDIS_URL: url, DEAD_URL: deadUrl },
      timeout: 120_000,
    });

    // the library did log, and the caught errors are there to inspect
    expect(stderr).toMatch(/^LANGGRAPH-REDIS \d+: /m);
    const messages = JSON.parse(stdout.trim().split("\n").at(-1) ?? "[]") as string[];
    expect(messages).toEqual([
      expect.stringMatching(/^InvalidInputError: .*is a function/),
      expect.stringMatching(/^ValueTooLargeError: /),
      expect.stringMatching(/^RedisConnectionError: /),
    ]);
    const output = `${stderr}\n${stdout}`;
    for (const secret of [PASSWORD, "secret-value-logged-7f3a", "fn-body-Kx9"]) {
      expect(output).not.toContain(secret);
    }
  });
});

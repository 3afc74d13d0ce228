import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    alias: { "langgraph-redis": fileURLToPath(new URL("./src/index.ts", import.meta.url)) },
  },
  test: {
    globals: true,
    include: ["test/**/*.test.ts"],
    exclude: ["test/faults/**", "node_modules/**"],
    globalSetup: ["test/setup/global-setup.ts", "test/setup/postgres-setup.ts"],
    setupFiles: ["test/setup/watchdog.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default", "./test/setup/summary-reporter.ts", "./test/setup/counts-reporter.ts"],
  },
});

import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * The fault suite (`npm run test:faults`): tests that kill, restart and fail over real redis-server processes they
 * start themselves. Files run one after another so the kills of one do not disturb another on a small machine.
 */
export default defineConfig({
  resolve: {
    alias: { "langgraph-redis": fileURLToPath(new URL("./src/index.ts", import.meta.url)) },
  },
  test: {
    globals: true,
    include: ["test/faults/**/*.test.ts"],
    fileParallelism: false,
    setupFiles: ["test/setup/watchdog.ts"],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: "forks",
    reporters: ["default", "./test/setup/summary-reporter.ts", "./test/setup/counts-reporter.ts"],
  },
});

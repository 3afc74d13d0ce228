import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/** The fault tests (real processes killed at random): long, so kept out of `npm test`; run by `npm run test:faults`. */
export default defineConfig({
  resolve: {
    alias: { "langgraph-redis": fileURLToPath(new URL("./src/index.ts", import.meta.url)) },
  },
  test: {
    globals: true,
    include: ["test/faults/**/*.test.ts"],
    globalSetup: ["test/setup/global-setup.ts"],
    testTimeout: 1_800_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default", "./test/setup/summary-reporter.ts"],
  },
});

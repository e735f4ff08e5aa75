import { defineConfig } from "vitest/config";

const json = process.env.VITEST_JSON;

export default defineConfig({
  test: {
    include: ["properties/**/*.test.ts", "src/**/*.test.ts", "experiments/**/*.test.ts"],
    // One fresh fast-check seed per run, printed once (unless FC_SEED is set): properties/globalSetup.ts.
    globalSetup: ["properties/globalSetup.ts"],
    setupFiles: ["properties/setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    reporters: json ? ["default", ["json", { outputFile: json }]] : ["default"],
  },
});

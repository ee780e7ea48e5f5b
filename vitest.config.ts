import { defineConfig } from "vitest/config";

// Workspace packages resolve to their TypeScript sources under the "source"
// export condition, so tests never need a build of a sibling package.
const resolve = { conditions: ["source"] };

export default defineConfig({
  resolve,
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  test: {
    env: { NO_COLOR: "1", FORCE_COLOR: "0" },
    reporters: process.env.CI ? ["default", "junit"] : ["default"],
    outputFile: { junit: "test-results/junit.xml" },
    projects: [
      {
        resolve,
        ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
        test: {
          name: "unit",
          include: ["*/src/**/*.test.ts", "counter-app/*/src/**/*.test.ts", "scripts/*.test.ts"],
          env: { NO_COLOR: "1" },
          testTimeout: 20_000,
        },
      },
      {
        resolve,
        ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
        test: {
          // Tests against real Docker, SSH, Ansible, Redis and the sim: one file at a time.
          name: "integration",
          include: ["*/src/**/*.itest.ts", "counter-app/*/src/**/*.itest.ts"],
          env: { NO_COLOR: "1" },
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});

import { defineConfig } from "vitest/config";

// `npm run bench -w ansible-bridge`: benchmark scripts under bench/, resolved to TypeScript sources like the tests.
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  test: { include: ["bench/**/*.run.ts"], reporters: ["default"], env: { NO_COLOR: "1" }, testTimeout: 3_600_000, hookTimeout: 600_000 },
});

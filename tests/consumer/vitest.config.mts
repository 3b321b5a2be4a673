// The packed-consumer matrix (npm run test:consumer): slow (npm installs), so not part of npm test.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: new URL("../..", import.meta.url).pathname,
    include: ["tests/consumer/**/*.test.ts"],
    setupFiles: ["tests/support/no-leaks.ts"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});

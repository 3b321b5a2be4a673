import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // tests/consumer is the slower packed-consumer matrix: npm run test:consumer.
    include: ["tests/*.test.ts"],
    setupFiles: ["tests/support/no-leaks.ts"],
    // A temp directory of the run's own, which must be empty at the end (tests clean up).
    globalSetup: ["tests/support/temp-dir.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Child processes (gRPC server, mock programs) make the engine layers the slow ones.
    fileParallelism: true,
  },
});

// npm run test:platforms: every release artifact, as the engine runs it, on what this machine can run
// (natively, linux-arm64 under qemu-user, Windows under Wine), and the build's reproducibility. The
// script builds dist/release first (npm run release:build); RELEASE_DIR points elsewhere (the release
// workflow's runners test the artifacts built by its build jobs). Slow (builds, emulators), so not
// part of npm test; one file at a time, on 2 cores.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)), // a path on Windows runners too
    include: ["tests/platforms/**/*.test.ts"],
    setupFiles: ["tests/support/no-leaks.ts"],
    globalSetup: ["tests/support/temp-dir.ts"],
    testTimeout: 180_000,
    hookTimeout: 300_000,
    fileParallelism: false,
  },
});

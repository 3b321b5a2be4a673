import { defineConfig } from "vitest/config";

// The test files that exercise the sources in-process, where StrykerJS's mutants live. Files that
// drive compiled dist/ in child processes (engine, wire, accounts, programs, CLIs, consumer) cannot
// see a mutant and would only slow each run; their behaviours are covered in-process here too.
export default defineConfig({
  test: {
    include: [
      "tests/schema.test.ts",
      "tests/schema.property.test.ts",
      "tests/diff.test.ts",
      "tests/config.test.ts",
      "tests/retry.test.ts",
      "tests/errors.test.ts",
      "tests/answers.test.ts",
      "tests/provider.test.ts",
      "tests/adopt.test.ts",
      "tests/operations.test.ts",
      "tests/reliability.test.ts",
      "tests/hostile.test.ts",
      "tests/resource.test.ts",
      "tests/reconcile.test.ts",
      "tests/holdings.test.ts",
      "tests/audit.test.ts",
      "tests/audit.property.test.ts",
      "tests/terminal.test.ts",
      "tests/generate.test.ts",
      "tests/generate.property.test.ts",
      "tests/accounts-provider.test.ts",
      "tests/client.test.ts",
      "tests/controls.test.ts",
      "tests/native.test.ts",
      "tests/engine-traffic.test.ts",
      "tests/package-schema.test.ts",
      "tests/languages.test.ts",
    ],
    setupFiles: ["tests/support/no-leaks.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

// npm run test:mutation: StrykerJS over the provider and the CLI's pure parts, with the vitest
// runner on the in-process test files (vitest.mutation.config.mts). Incremental: results are kept
// in reports/stryker-incremental.json (committed), so a run re-tests only mutants whose code or
// tests changed. The build fails below thresholds.break.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.mutation.config.mts" },
  plugins: ["@stryker-mutator/vitest-runner"],
  // shim.ts is serialized into state by Pulumi's closure serializer, which cannot serialize Stryker's
  // instrumentation: it is covered through dist/ by the engine and consumer tests instead. The
  // plugin's entry (native/main.ts) only starts the service: the executable test runs it.
  mutate: [
    "provider/**/*.ts",
    "cli/audit.ts",
    "cli/generate.ts",
    "cli/terminal.ts",
    "!provider/index.ts",
    "!provider/dynamic/shim.ts",
    "!provider/native/main.ts",
  ],
  coverageAnalysis: "perTest",
  // Static mutants (module-level definitions: the validation model with its messages and
  // descriptions, constants) run every test file each: with the plugin's suites that is about 41 s a
  // mutant, over an hour per change on 2 cores. They are left out (reported as ignored); what they
  // define is pinned by the unit tests and the committed package schema (plugin/schema.json).
  ignoreStatic: true,
  incremental: true,
  incrementalFile: "reports/stryker-incremental.json",
  reporters: ["clear-text", "progress", "json"],
  jsonReporter: { fileName: "reports/mutation.json" },
  // The score is above 99 % (docs/mutation.md); the build breaks below 95 %, well above issue 12's
  // 90 % floor. Per file (90 %, issue 16) and the reason for each survivor: npm run mutation:report -- --check.
  thresholds: { high: 99, low: 95, break: 95 },
  concurrency: 2,
  timeoutMS: 5_000,
  tempDirName: ".stryker-tmp",
  // The plugin builds (100 MB executables, and every platform's release) need not be copied into the sandbox.
  ignorePatterns: ["dist/plugin", "dist/release"],
  cleanTempDir: "always",
};

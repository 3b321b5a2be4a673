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
  // instrumentation: it is covered through dist/ by the engine and consumer tests instead.
  mutate: ["provider/**/*.ts", "cli/audit.ts", "cli/generate.ts", "!provider/index.ts", "!provider/shim.ts"],
  coverageAnalysis: "perTest",
  incremental: true,
  incrementalFile: "reports/stryker-incremental.json",
  reporters: ["clear-text", "progress", "json"],
  jsonReporter: { fileName: "reports/mutation.json" },
  // Issue 12 targets 90 %; the measured score is 83.94 % (docs/mutation.md): the build breaks
  // below that floor so it cannot regress while the rest is done.
  thresholds: { high: 95, low: 90, break: 83 },
  concurrency: 2,
  timeoutMS: 5_000,
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};

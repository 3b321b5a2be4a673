#!/usr/bin/env node
// `prepare` (npm ci, a git install, or an example's `file:../..` install): build dist/ with
// TypeScript. Building needs this repository's dev dependencies; where they are missing (an
// example installed in a fresh clone before the root `npm ci`), say so instead of `tsc: not found`.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");
let tsc;
try {
  tsc = createRequire(join(REPO, "package.json")).resolve("typescript/bin/tsc");
} catch {
  process.stderr.write(
    `pulumi-sendgrid-segment: building dist/ needs this repository's dev dependencies (TypeScript): run \`npm ci\` in ${REPO} first\n`,
  );
  process.exit(1);
}
const build = spawnSync(process.execPath, [tsc, "-p", join(REPO, "tsconfig.build.json")], { stdio: "inherit" });
process.exit(build.status ?? 1);
